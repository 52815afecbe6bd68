"""Settings: flags, then environment variables, then a TOML file, then defaults (contract section 3)."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from fleet.mail import SmtpSettings, parse_smtp_url
from fleet.reports.language import parse_languages
from fleet.secret_key import WeakSecretKey, check_secret_key
from twins.broker_url import BrokerUrl, parse_broker_url


class SettingsError(ValueError):
    """A bad setting; the message is one line naming the setting and the fix."""


@dataclass(frozen=True, slots=True)
class MqttUrl(BrokerUrl):
    """BENCHFLEET_MQTT: a broker URL (``twins.broker_url``), or ``embedded`` for the demo's own broker."""

    embedded: bool = False

    def redacted(self) -> str:
        """The URL without the password, for logs and /healthz."""
        return "embedded" if self.embedded else BrokerUrl.redacted(self)


def parse_mqtt_url(text: str, setting: str = "BENCHFLEET_MQTT") -> MqttUrl:
    """Parse the broker setting; raise SettingsError naming ``setting`` and the expected form."""
    if text.strip() == "embedded":
        return MqttUrl(host="127.0.0.1", port=1883, tls=False, embedded=True)
    try:
        url = parse_broker_url(text)
    except ValueError as err:
        raise SettingsError(f"{setting}: {err}, or embedded") from None
    return MqttUrl(url.host, url.port, url.tls, url.username, url.password)


def _check_tsdb(text: str) -> str:
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        parts = urlsplit("")
    if parts.scheme in ("influxdb", "influxdbs") and parts.hostname and parts.path.strip("/"):
        return text
    if parts.scheme == "sqlite" and text.startswith("sqlite:///") and len(text) > len("sqlite:///"):
        return text
    raise SettingsError(
        f"BENCHFLEET_TSDB: {text!r} is not a TSDB URL; use influxdb://[user:pass@]host:8086/db[?token=...] "
        "or sqlite:///path/to/series.db"
    )


def _check_db(text: str) -> str:
    try:
        backend = make_url(text).get_backend_name()
    except ArgumentError:
        backend = ""
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"BENCHFLEET_DB: {text!r} is not a supported database URL; use sqlite:///path/fleet.db or postgresql://..."
        )
    return text


def _check_http(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"BENCHFLEET_HTTP: {text!r} is not host:port; use e.g. 127.0.0.1:5000")
    return text


def _check_secret_key(text: str) -> str:
    # Empty means "keep a generated key in the data folder" (fleet.secret_key); anything else must be strong.
    if not text:
        return text
    try:
        return check_secret_key(text)
    except WeakSecretKey as err:
        raise SettingsError(str(err)) from None


def _check_proxies(text: str) -> tuple[str, ...]:
    proxies = tuple(p.strip() for p in text.split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"BENCHFLEET_TRUSTED_PROXIES: {proxy!r} is not an address or network; use e.g. 10.0.0.5,172.18.0.0/16"
            ) from None
    return proxies


def _check_redis(text: str) -> str:
    parts = urlsplit(text.strip())
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        parts = urlsplit("")
    if text and (parts.scheme not in ("redis", "rediss") or not parts.hostname):
        raise SettingsError(f"BENCHFLEET_REDIS: {text!r} is not a Redis URL; use redis://host:6379/0 (or rediss://)")
    return text.strip()


def _check_queue(text: str) -> str:
    try:
        return _check_redis(text)
    except SettingsError:
        raise SettingsError(
            f"BENCHFLEET_SOCKETIO_QUEUE: {text!r} is not a Redis URL; set BENCHFLEET_REDIS=redis://host:6379/0 instead"
        ) from None


def _check_worker(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 9999:
        raise SettingsError(f"BENCHFLEET_WORKER: {text!r} is not a worker slot; use a whole number 0..9999, e.g. 2")
    return int(text)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _check_log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in _LOG_LEVELS:
        raise SettingsError(f"BENCHFLEET_LOG_LEVEL: {text!r} is not a log level; use one of {', '.join(_LOG_LEVELS)}")
    return level


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        low = str(text).strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise SettingsError(f"{name}: {text!r} is not a boolean; use 1 or 0")

    return parse


def _checked_by(var: str, parse: Callable[[str], object]) -> Callable[[str], str]:
    """A checker that keeps the text when ``parse`` accepts it, and names ``var`` when it does not."""

    def check(text: str) -> str:
        if text.strip():
            try:
                parse(text.strip())
            except ValueError as err:
                message = str(err)
                raise SettingsError(message if message.startswith(var) else f"{var}: {message}") from None
        return text.strip()

    return check


def _int(name: str, low: int, high: int, unit: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise SettingsError(f"{name}: {text!r} is not a whole number of {unit}") from None
        if not low <= value <= high:
            raise SettingsError(f"{name}: {value} {unit} is out of range; use {low} to {high}")
        return value

    return parse


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the server processes, already checked."""

    mqtt: str = "mqtt://127.0.0.1:1883"
    tsdb: str = "sqlite:///var/benchfleet/series.db"
    db: str = "sqlite:///var/benchfleet/fleet.db"
    http: str = "127.0.0.1:5000"
    auto_register: bool = False
    data_dir: str = "var/benchfleet"
    secret_key: str = ""
    public_results: bool = False
    tile_url: str = ""
    share_group: str = ""
    ingest_client_id: str = ""
    socketio_queue: str = ""
    redis: str = ""
    worker: int = 0
    log_level: str = "INFO"
    raw_retention_days: int = 30
    backup_dir: str = ""
    backup_keep: int = 7
    backup_hour: int = 2
    vote_rate_limit: int = 120
    trusted_proxies: tuple[str, ...] = ()
    smtp: str = ""
    report_languages: str = ""
    chromium: str = ""

    @property
    def backup_folder(self) -> Path:
        """Where nightly SQL backups go: BENCHFLEET_BACKUP_DIR, else ``<data_dir>/backups``."""
        return Path(self.backup_dir) if self.backup_dir else Path(self.data_dir) / "backups"

    @property
    def smtp_settings(self) -> SmtpSettings | None:
        """The mail server for alarm notifications and reports, or None (no e-mail)."""
        return parse_smtp_url(self.smtp) if self.smtp else None

    @property
    def report_language_map(self) -> dict[str, str]:
        """Per-municipality report languages (``Mostar=hr,...``) over the entity defaults."""
        return parse_languages(self.report_languages)

    @property
    def mqtt_url(self) -> MqttUrl:
        """The parsed broker URL."""
        return parse_mqtt_url(self.mqtt)

    @property
    def redis_url(self) -> str:
        """The one Redis (cross-process events and Socket.IO queue); the deprecated queue setting as fallback."""
        return self.redis or self.socketio_queue

    def deprecations(self) -> list[str]:
        """One line per deprecated setting in use, naming its replacement."""
        if self.socketio_queue and not self.redis:
            return ["BENCHFLEET_SOCKETIO_QUEUE is deprecated: set BENCHFLEET_REDIS to the same URL instead"]
        if self.socketio_queue:
            return ["BENCHFLEET_SOCKETIO_QUEUE is deprecated and ignored: BENCHFLEET_REDIS is set"]
        return []

    @property
    def http_host(self) -> str:
        """Host part of BENCHFLEET_HTTP."""
        return self.http.rpartition(":")[0]

    @property
    def http_port(self) -> int:
        """Port part of BENCHFLEET_HTTP."""
        return int(self.http.rpartition(":")[2])


# setting name → (environment variable, checker). The table is the single list of what can be set.
_SPEC: dict[str, tuple[str, Callable[[str], Any]]] = {
    "mqtt": ("BENCHFLEET_MQTT", lambda t: parse_mqtt_url(t) and t),
    "tsdb": ("BENCHFLEET_TSDB", _check_tsdb),
    "db": ("BENCHFLEET_DB", _check_db),
    "http": ("BENCHFLEET_HTTP", _check_http),
    "auto_register": ("BENCHFLEET_AUTO_REGISTER", _bool("BENCHFLEET_AUTO_REGISTER")),
    "data_dir": ("BENCHFLEET_DATA_DIR", str),
    "secret_key": ("BENCHFLEET_SECRET_KEY", _check_secret_key),
    "public_results": ("BENCHFLEET_PUBLIC_RESULTS", _bool("BENCHFLEET_PUBLIC_RESULTS")),
    "tile_url": ("BENCHFLEET_TILE_URL", str),
    "share_group": ("BENCHFLEET_SHARE_GROUP", str),
    "ingest_client_id": ("BENCHFLEET_INGEST_CLIENT_ID", str),
    "socketio_queue": ("BENCHFLEET_SOCKETIO_QUEUE", _check_queue),
    "redis": ("BENCHFLEET_REDIS", _check_redis),
    "worker": ("BENCHFLEET_WORKER", _check_worker),
    "log_level": ("BENCHFLEET_LOG_LEVEL", _check_log_level),
    # Raw telemetry is deleted after this many days; hourly and daily aggregates are kept (docs/tsdb.md).
    "raw_retention_days": ("BENCHFLEET_RAW_RETENTION_DAYS", _int("BENCHFLEET_RAW_RETENTION_DAYS", 1, 36500, "days")),
    "backup_dir": ("BENCHFLEET_BACKUP_DIR", str),
    "backup_keep": ("BENCHFLEET_BACKUP_KEEP", _int("BENCHFLEET_BACKUP_KEEP", 1, 10000, "backups")),
    "backup_hour": ("BENCHFLEET_BACKUP_HOUR", _int("BENCHFLEET_BACKUP_HOUR", 0, 23, "hours (UTC)")),
    "trusted_proxies": ("BENCHFLEET_TRUSTED_PROXIES", _check_proxies),
    # Valid votes of one bench for one poll in 10 minutes beyond which they are held for review (issue 8).
    "vote_rate_limit": ("BENCHFLEET_VOTE_RATE_LIMIT", _int("BENCHFLEET_VOTE_RATE_LIMIT", 1, 100_000, "votes")),
    # One mail server for alarm notifications and monthly reports (fleet/mail.py).
    "smtp": ("BENCHFLEET_SMTP", _checked_by("BENCHFLEET_SMTP", parse_smtp_url)),
    "report_languages": ("BENCHFLEET_REPORT_LANGUAGES", _checked_by("BENCHFLEET_REPORT_LANGUAGES", parse_languages)),
    # The headless browser that prints report PDFs (default: chromium on PATH).
    "chromium": ("BENCHFLEET_CHROMIUM", str),
}


def _checked(var: str, check: Callable[[str], Any], value: Any, default: Any) -> Any:
    """Check a string with the setting's checker; a TOML or flag value of another type must fit the default's."""
    if isinstance(value, str):
        return check(value)
    if isinstance(default, bool) and isinstance(value, bool):
        return value
    if isinstance(default, bool):
        raise SettingsError(f"{var}: {value!r} is not a boolean; use true or false")
    if isinstance(default, int) and isinstance(value, int) and not isinstance(value, bool):
        return check(str(value))  # TOML integers go through the same range check as text
    raise SettingsError(f'{var}: {value!r} is not a string; write it in quotes, e.g. "{value}"')


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge flags > environment > TOML file > defaults and check every value."""
    env = os.environ if env is None else env
    file_values: dict[str, Any] = {}
    path = config_file or (Path(env["BENCHFLEET_CONFIG"]) if env.get("BENCHFLEET_CONFIG") else None)
    if path is not None:
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8")).get("benchfleet", {})
        except FileNotFoundError:
            raise SettingsError(f"BENCHFLEET_CONFIG: file {path} does not exist") from None
        except tomllib.TOMLDecodeError as err:
            raise SettingsError(f"BENCHFLEET_CONFIG: {path} is not valid TOML ({err})") from None
        if not isinstance(file_values, dict):
            raise SettingsError(f"BENCHFLEET_CONFIG: 'benchfleet' in {path} must be a [benchfleet] table")
        unknown = sorted(set(file_values) - set(_SPEC))
        if unknown:
            raise SettingsError(f"BENCHFLEET_CONFIG: unknown key(s) {', '.join(unknown)} in [benchfleet] of {path}")
    values: dict[str, Any] = {}
    for f in fields(Settings):
        var, check = _SPEC[f.name]
        for source in ((flags or {}).get(f.name), env.get(var), file_values.get(f.name)):
            if source is not None:
                values[f.name] = _checked(var, check, source, f.default)
                break
    return Settings(**_within_data_dir(values))


#: The SQLite files that live in BENCHFLEET_DATA_DIR unless their own setting names another place.
_DATA_DIR_FILES = {"db": "fleet.db", "tsdb": "series.db"}


def _within_data_dir(values: dict[str, Any]) -> dict[str, Any]:
    """Unset db and tsdb default to files in the data folder, so every command (demo included) shares one place."""
    folder = values.get("data_dir")
    if folder is None:
        return values
    defaults = {k: f"sqlite:///{Path(folder) / name}" for k, name in _DATA_DIR_FILES.items() if k not in values}
    return {**values, **defaults}
