"""The lifecycle settings: raw retention days and the backup folder, count and hour."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from fleet.backup import BackupJob
from fleet.runtime import FleetRuntime
from fleet.settings import SettingsError, load_settings
from twins.clock import SystemClock


def test_defaults() -> None:
    """Raw telemetry 30 days; seven nightly backups at 02:00 UTC under the data folder."""
    s = load_settings({"data_dir": "/srv/bf"}, env={})
    assert s.raw_retention_days == 30
    assert (s.backup_folder, s.backup_keep, s.backup_hour) == (Path("/srv/bf/backups"), 7, 2)


def test_environment_and_toml(tmp_path: Path) -> None:
    """Environment variables as text, the TOML file as integers; both go through the same range check."""
    env = {"BENCHFLEET_RAW_RETENTION_DAYS": "14", "BENCHFLEET_BACKUP_DIR": "/mnt/backup"}
    s = load_settings({}, env=env)
    assert (s.raw_retention_days, s.backup_folder) == (14, Path("/mnt/backup"))
    toml = tmp_path / "benchfleet.toml"
    toml.write_text("[benchfleet]\nbackup_keep = 30\nbackup_hour = 23\n", encoding="utf-8")
    s = load_settings({}, env={}, config_file=toml)
    assert (s.backup_keep, s.backup_hour) == (30, 23)
    job = BackupJob.from_settings(s, SystemClock())
    assert job.keep == 30


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("BENCHFLEET_RAW_RETENTION_DAYS", "0", "BENCHFLEET_RAW_RETENTION_DAYS: 0 days is out of range; use 1 to"),
        ("BENCHFLEET_RAW_RETENTION_DAYS", "a week", "BENCHFLEET_RAW_RETENTION_DAYS: 'a week' is not a whole number"),
        ("BENCHFLEET_BACKUP_KEEP", "0", "BENCHFLEET_BACKUP_KEEP: 0 backups is out of range"),
        ("BENCHFLEET_BACKUP_HOUR", "24", "BENCHFLEET_BACKUP_HOUR: 24 hours (UTC) is out of range; use 0 to 23"),
    ],
)
def test_bad_values_name_the_setting(var: str, value: str, message: str) -> None:
    """A bad value stops the start with one line naming the setting and the accepted range."""
    with pytest.raises(SettingsError) as err:
        load_settings({}, env={var: value})
    assert str(err.value).startswith(message)


def test_a_float_in_toml_is_refused(tmp_path: Path) -> None:
    """``raw_retention_days = 7.5`` is not silently truncated."""
    toml = tmp_path / "benchfleet.toml"
    toml.write_text("[benchfleet]\nraw_retention_days = 7.5\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="BENCHFLEET_RAW_RETENTION_DAYS"):
        load_settings({}, env={}, config_file=toml)
    assert timedelta(days=load_settings({}, env={}).raw_retention_days) == timedelta(days=30)


def test_runtime_schedules_retention_and_backup(runtime_factory: Callable[..., FleetRuntime], tmp_path: Path) -> None:
    """The server runs the retention job and the nightly backup from its scheduler, with its settings."""
    rt = runtime_factory("mqtt://127.0.0.1:1", start=False, raw_retention_days="3")
    try:
        jobs = {job.name: job for job in rt.scheduler.jobs}
        assert {"health_sweep", "retention", "backup"} <= set(jobs)
        report = jobs["retention"].fn()
        assert report.aggregate_points == 0  # nothing written yet
        backup_job = jobs["backup"].fn.__self__
        assert backup_job.folder == tmp_path / "data" / "backups"
        assert backup_job.backup_now().parent == tmp_path / "data" / "backups"
    finally:
        rt.writer.close()
        rt.tsdb.close()
        rt.engine.dispose()
