"""The session-signing key: published and weak keys are refused with one line; a generated one is kept."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.secret_key import (
    WeakSecretKey,
    check_secret_key,
    estimated_bits,
    generate_secret_key,
    load_or_create_secret_key,
)
from fleet.settings import SettingsError, load_settings

COMPOSE_PLACEHOLDER = "replace-with-a-long-random-secret"  # what docker-compose.yml shipped before issue 8


@pytest.mark.parametrize(
    "key",
    [
        COMPOSE_PLACEHOLDER,
        "REPLACE-WITH-A-LONG-RANDOM-SECRET",
        "change-me-please-to-something-very-long-and-random",
        "k" * 64,  # long but one character: no entropy
        "abababababababababababababababababababab",
        "short-but-random-9Xq",
        "a-secret-key-for-this-test-0123456789",  # made up by a person: words, not entropy
        "my-production-password-2026-benchfleet-xyz",
        "",
    ],
)
def test_weak_or_published_keys_are_refused(key: str) -> None:
    with pytest.raises(WeakSecretKey) as err:
        check_secret_key(key)
    assert "BENCHFLEET_SECRET_KEY" in str(err.value)
    assert "\n" not in str(err.value)


def test_generated_keys_pass_and_are_strong() -> None:
    key = generate_secret_key()
    assert check_secret_key(key) == key
    assert estimated_bits(key) >= 128
    assert generate_secret_key() != key


def test_settings_refuse_the_compose_placeholder() -> None:
    with pytest.raises(SettingsError, match="BENCHFLEET_SECRET_KEY: a published placeholder"):
        load_settings(env={"BENCHFLEET_SECRET_KEY": COMPOSE_PLACEHOLDER})
    assert load_settings(env={"BENCHFLEET_SECRET_KEY": ""}).secret_key == ""


def test_serve_stops_with_one_line_on_a_placeholder_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "--data-dir", str(tmp_path)],
        env={"BENCHFLEET_SECRET_KEY": COMPOSE_PLACEHOLDER, "BENCHFLEET_MQTT": "mqtt://127.0.0.1:1"},
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]]
    assert lines[0].startswith("Error: BENCHFLEET_SECRET_KEY: a published placeholder")


def test_a_generated_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret_key(tmp_path / "data")
    stored = tmp_path / "data" / "secret_key"
    assert stored.read_text() == first
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert load_or_create_secret_key(tmp_path / "data") == first
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]  # no temp file left


def test_a_weak_stored_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text(COMPOSE_PLACEHOLDER)
    with pytest.raises(WeakSecretKey, match=str(tmp_path / "secret_key")):
        load_or_create_secret_key(tmp_path)


def test_a_dashboard_built_directly_refuses_published_and_short_keys() -> None:
    from dashboards.config import DashboardConfig

    for key in (COMPOSE_PLACEHOLDER, "short"):
        with pytest.raises(WeakSecretKey):
            DashboardConfig(secret_key=key)
    assert DashboardConfig(secret_key=generate_secret_key()).secret_key
