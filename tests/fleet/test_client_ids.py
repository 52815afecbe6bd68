"""MQTT client ids of the server processes: secret prefix kept in the data folder, stable per worker slot."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fleet.client_ids import SECRET_FILE, installation_secret, server_client_id


def test_an_ingest_worker_gets_the_same_unguessable_id_after_a_restart(tmp_path: Path) -> None:
    first = server_client_id("", tmp_path, "ingest", 2)
    assert re.fullmatch(r"bf-[0-9a-f]{16}-ingest-2", first)
    assert server_client_id("", tmp_path, "ingest", 2) == first  # restarted: resumes its session
    assert server_client_id("", tmp_path, "ingest", 1) != first
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o077 == 0  # not readable by others


def test_installations_differ_and_dashboards_never_share_an_id(tmp_path: Path) -> None:
    assert installation_secret(tmp_path / "a") != installation_secret(tmp_path / "b")
    dashboards = {server_client_id("", tmp_path, "dashboard", None) for _ in range(20)}
    assert len(dashboards) == 20


def test_an_explicit_prefix_replaces_the_secret(tmp_path: Path) -> None:
    assert server_client_id("site-7", tmp_path, "serve", 0) == "site-7-serve-0"
    assert not (tmp_path / SECRET_FILE).exists()


def test_concurrent_first_starts_agree_on_one_secret(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: installation_secret(tmp_path), range(32)))
    assert len(secrets) == 1
