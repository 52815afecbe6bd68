"""Broker URLs: ``mqtt://[user:pass@]host[:port]`` and ``mqtts://...`` (TLS), for the fleet, agents and simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
FORMS = "mqtt://[user:pass@]host:1883 or mqtts://[user:pass@]host:8883"


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """A parsed broker URL; the password is kept out of ``repr``."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def redacted(self) -> str:
        """The URL without its password, for logs and /healthz."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_broker_url(text: str) -> BrokerUrl:
    """Parse a broker URL; raise ValueError naming what is wrong and the expected form."""
    parts = urlsplit(text.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"broker URL {text!r}: scheme must be mqtt:// or mqtts://; use {FORMS}")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as err:
        raise ValueError(f"broker URL {text!r}: invalid port ({err}); use {FORMS}") from None
    if not parts.hostname:
        raise ValueError(f"broker URL {text!r}: host is missing; use {FORMS}")
    return BrokerUrl(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
