"""Shared fixtures: real Mosquitto, InfluxDB, PostgreSQL and amqtt on free ports with temp data folders."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The repository root on sys.path lets tests import `tests.services` / `tests.waiting` and the packages
# themselves even when the project is not pip-installed (tests/ has no __init__.py by design).
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.services import (  # noqa: E402
    AmqttService,
    InfluxService,
    MosquittoService,
    PostgresDatabase,
)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoService]:
    """One Mosquitto broker shared by the whole session (tests must use their own topics/client ids)."""
    broker = MosquittoService(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def fresh_mosquitto(tmp_path: Path) -> Iterator[MosquittoService]:
    """A broker of the test's own, which the test may stop, kill and restart on the same port."""
    broker = MosquittoService(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxService]:
    """One influxd shared by the session, with database ``benchfleet``; use unique tags per test."""
    server = InfluxService(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fresh_influxdb(tmp_path: Path) -> Iterator[InfluxService]:
    """An influxd of the test's own, which the test may stop and restart on the same port and data."""
    server = InfluxService(tmp_path / "influxd")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PostgresDatabase]:
    """A uniquely named PostgreSQL database for the session, dropped at the end."""
    database = PostgresDatabase()
    database.create()
    yield database
    database.drop()


@pytest.fixture(scope="session")
def pg_url(pg_database: PostgresDatabase) -> str:
    """SQLAlchemy URL (postgresql+psycopg://...) of the session's PostgreSQL database."""
    return pg_database.url


@pytest.fixture
def db_url() -> Iterator[str]:
    """The fleet database of one test: a fresh PostgreSQL database (twins live on PostgreSQL in
    production), dropped at the end. Tests about the demo use ``tmp_sqlite_url`` instead."""
    database = PostgresDatabase()
    database.create()
    yield database.url
    database.drop()


@pytest.fixture
def amqtt_broker() -> Iterator[AmqttService]:
    """The embedded amqtt broker in a background thread on a free port."""
    broker = AmqttService()
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    """An SQLAlchemy/TSDB-style URL of a fresh SQLite file in the test's temp folder."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"
