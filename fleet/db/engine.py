"""Creating SQLAlchemy engines from the BENCHFLEET_DB URL."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL: readers (dashboards) never block the ingestion writer; NORMAL is durable in WAL mode
    # except for the last transactions on power loss, which MQTT redelivery covers (ack after commit).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://...``; ValueError naming the setting otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ValueError(f"BENCHFLEET_DB: {url!r} is not an SQLAlchemy URL (e.g. sqlite:///var/fleet.db)") from err
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if backend == "sqlite":
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    raise ValueError(f"BENCHFLEET_DB: unsupported database {backend!r}; use sqlite:///path or postgresql://...")
