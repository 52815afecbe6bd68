"""The CLI as a process: one default data folder for every command, municipality names checked, user and
token housekeeping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fleet.settings import load_settings

CSV_HEADER = "bench_id,name,municipality,entity,canton,lat,lon,altitude_m,installed\n"
PASSWORD = "a-long-enough-password"


def _env(**extra: str) -> dict[str, str]:
    """The environment without any BENCHFLEET_ setting of the machine running the tests."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("BENCHFLEET_")}, **extra}


def _cli(cwd: Path, env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_db_and_tsdb_default_to_the_data_folder() -> None:
    settings = load_settings({}, env={"BENCHFLEET_DATA_DIR": "/srv/bf"})
    assert (settings.db, settings.tsdb) == ("sqlite:////srv/bf/fleet.db", "sqlite:////srv/bf/series.db")
    explicit = load_settings({}, env={"BENCHFLEET_DATA_DIR": "/srv/bf", "BENCHFLEET_DB": "sqlite:///x.db"})
    assert explicit.db == "sqlite:///x.db"
    assert load_settings({}, env={}).db == "sqlite:///var/benchfleet/fleet.db"


def test_user_add_without_settings_writes_where_the_demo_reads(tmp_path: Path) -> None:
    """No setting at all: user add writes var/benchfleet/fleet.db, the demo's default folder too."""
    env = _env()
    added = _cli(tmp_path, env, "user", "add", "ops", "--role", "admin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "var" / "benchfleet" / "fleet.db").exists()
    # Pointing only the data folder elsewhere moves every command's database with it.
    other = _env(BENCHFLEET_DATA_DIR=str(tmp_path / "elsewhere"))
    assert _cli(tmp_path, other, "user", "add", "crew", "--role", "maintenance", stdin=PASSWORD + "\n").returncode == 0
    assert (tmp_path / "elsewhere" / "fleet.db").exists()
    listed = _cli(tmp_path, other, "user", "list").stdout
    assert "crew\tmaintenance" in listed
    assert "ops" not in listed


def test_misspelt_municipality_is_refused_with_the_known_names(tmp_path: Path) -> None:
    env = _env(BENCHFLEET_DATA_DIR=str(tmp_path / "data"))
    empty = _cli(tmp_path, env, "user", "add", "mo", "--role", "municipality", "--municipality", "Mostar", stdin="x\n")
    assert empty.returncode != 0
    assert "benches import" in empty.stderr
    csv = tmp_path / "benches.csv"
    csv.write_text(
        CSV_HEADER
        + "mostar-01,Klupa Mostar,Mostar,FBiH,HNK,43.34,17.81,60,2023-05\n"
        + "maglaj-01,Klupa Maglaj,Maglaj,FBiH,ZDK,44.55,18.10,170,2023-05\n",
        encoding="utf-8",
    )
    assert _cli(tmp_path, env, "benches", "import", str(csv)).returncode == 0
    wrong = _cli(
        tmp_path, env, "user", "add", "mo", "--role", "municipality", "--municipality", "Mostarr", stdin=PASSWORD + "\n"
    )
    assert wrong.returncode != 0
    assert "'Mostarr' has no benches" in wrong.stderr
    assert "did you mean Mostar?" in wrong.stderr
    assert "known: Maglaj, Mostar" in wrong.stderr
    assert "mo\t" not in _cli(tmp_path, env, "user", "list").stdout
    right = _cli(
        tmp_path, env, "user", "add", "mo", "--role", "municipality", "--municipality", "Mostar", stdin=PASSWORD + "\n"
    )
    assert right.returncode == 0, right.stderr
    assert "mo\tmunicipality\tMostar" in _cli(tmp_path, env, "user", "list").stdout


def test_user_and_token_housekeeping(tmp_path: Path) -> None:
    env = _env(BENCHFLEET_DATA_DIR=str(tmp_path / "data"))
    assert _cli(tmp_path, env, "user", "add", "ops", "--role", "admin", stdin=PASSWORD + "\n").returncode == 0
    assert _cli(tmp_path, env, "user", "passwd", "ops", stdin="another-long-password\n").returncode == 0
    token = _cli(tmp_path, env, "token", "create", "ops", "--label", "script")
    assert token.returncode == 0, token.stderr
    listed = _cli(tmp_path, env, "token", "list").stdout.splitlines()
    assert len(listed) == 1
    token_id, user, label = listed[0].split("\t")[:3]
    assert (user, label) == ("ops", "script")
    assert listed[0].endswith("\tactive")
    assert _cli(tmp_path, env, "token", "revoke", token_id).returncode == 0
    assert _cli(tmp_path, env, "token", "list").stdout == ""
    missing = _cli(tmp_path, env, "token", "revoke", token_id)
    assert missing.returncode != 0
    assert "token list" in missing.stderr
    assert _cli(tmp_path, env, "user", "remove", "ops").returncode == 0
    assert _cli(tmp_path, env, "user", "list").stdout == ""
