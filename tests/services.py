"""Real services for tests: Mosquitto, InfluxDB 1.x, PostgreSQL and an embedded amqtt broker.

Each service runs on a free port with its own temporary data folder, waits for readiness by
polling (never a fixed sleep) and can be stopped and started again on the same port and data
folder, which is what the outage and restart tests need.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from tests.waiting import WaitTimeoutError, wait_until

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


class ServiceError(RuntimeError):
    """A test service could not be started or reached."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now (the kernel picks it from the ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Tell whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def which(program: str, fallbacks: Sequence[str] = ()) -> str:
    """Find an executable on PATH or at one of the fallback paths (Debian puts daemons in /usr/sbin)."""
    found = shutil.which(program)
    if found:
        return found
    for candidate in fallbacks:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ServiceError(f"{program} not found: install it (apt-get install {program}) or run scripts/test")


class ProcessService:
    """A daemon started as a child process with a log file; the base of Mosquitto and influxd."""

    name = "service"
    host = "127.0.0.1"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        """Prepare (but do not start) the service in ``workdir`` on ``port`` (a free one if None)."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self.log_path = self.workdir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._started_once = False

    # -- to be provided by subclasses -------------------------------------------------------
    def _write_config(self) -> list[str]:
        """Write the configuration for the current port and return the command line."""
        raise NotImplementedError

    def _ready(self) -> bool:
        """Tell whether the started daemon answers."""
        return port_open(self.host, self.port)

    def _after_first_start(self) -> None:
        """Hook run once after the very first successful start (e.g. create a database)."""

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the running daemon, or None."""
        return self._proc.pid if self.running and self._proc is not None else None

    def start(self) -> None:
        """Start the daemon and wait until it answers; retry on a fresh port if ours was taken meanwhile."""
        if self.running:
            return
        attempts = 1 if (self._fixed_port or self._started_once) else 3
        for attempt in range(attempts):
            try:
                self._start_once()
            except ServiceError:
                if attempt + 1 == attempts:
                    raise
                # Another process grabbed the port between free_port() and our bind: pick another one.
                self.port = free_port()
                continue
            break
        if not self._started_once:
            self._started_once = True
            self._after_first_start()

    def _start_once(self) -> None:
        """Spawn the process once and wait for readiness."""
        if port_open(self.host, self.port):
            raise ServiceError(f"{self.name}: port {self.port} is already in use by another process")
        argv = self._write_config()
        log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir
            )
        finally:
            log.close()

        # Ready, or dead (a bind failure exits at once): either way stop polling right away.
        def settled() -> bool:
            return not self.running or self._ready()

        try:
            wait_until(settled, timeout=START_TIMEOUT_S, interval=0.05, message=f"{self.name} ready on {self.port}")
        except WaitTimeoutError as err:
            self._terminate()
            raise ServiceError(f"{self.name} did not start on port {self.port}:\n{self.log_tail()}") from err
        if not self.running:
            code = self._proc.returncode if self._proc else "?"
            self._proc = None
            raise ServiceError(f"{self.name} exited with code {code} on port {self.port}:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the daemon gracefully (SIGTERM, so it saves its state) and wait until the port is closed."""
        self._terminate()

    def kill(self) -> None:
        """Kill the daemon abruptly (SIGKILL), as a crash or power cut would."""
        self._terminate(sig=signal.SIGKILL)

    def restart(self) -> None:
        """Stop then start again on the same port and data folder."""
        self.stop()
        self.start()

    def _terminate(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send ``sig``, wait for exit (escalating to SIGKILL), then for the port to be released."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)
        self._proc = None
        wait_until(
            lambda: not port_open(self.host, self.port),
            timeout=STOP_TIMEOUT_S,
            message=f"{self.name} port {self.port} closed",
        )

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of the daemon's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ProcessService:
        """Start on entering a with-block."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving a with-block."""
        self.stop()


class MosquittoService(ProcessService):
    """A Mosquitto 2.x broker on 127.0.0.1:<port>, anonymous, with persistence in its own folder."""

    name = "mosquitto"

    @property
    def url(self) -> str:
        """Broker URL in the form BENCHFLEET_MQTT accepts."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def persistence_dir(self) -> Path:
        """Folder holding mosquitto.db (survives stop/start)."""
        return self.workdir / "data"

    def _write_config(self) -> list[str]:
        """Write mosquitto.conf for the current port."""
        self.persistence_dir.mkdir(exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            "\n".join(
                [
                    f"listener {self.port} {self.host}",
                    "allow_anonymous true",
                    # Run as whoever started us: as root, Mosquitto would otherwise switch to the
                    # `mosquitto` user, which cannot write our temp folder (persistence silently fails).
                    f"user {pwd.getpwuid(os.getuid()).pw_name}",
                    "persistence true",
                    f"persistence_location {self.persistence_dir}/",
                    # 0 = unlimited: a restarted ingester must find every queued QoS 1 message.
                    "max_queued_messages 0",
                    # As deploy/mosquitto/mosquitto.conf: a window that holds a worker's batches in hand.
                    "max_inflight_messages 20000",
                    "log_dest stdout",
                    "log_type error",
                    "log_type warning",
                    "",
                ]
            )
        )
        return [which("mosquitto", ["/usr/sbin/mosquitto"]), "-c", str(conf)]


class InfluxService(ProcessService):
    """An InfluxDB 1.x daemon (Debian 12 ships 1.6.7) with HTTP on a free port and data in its folder."""

    name = "influxd"

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        database: str = "benchfleet",
        admin: tuple[str, str] | None = None,
    ) -> None:
        """Prepare influxd in ``workdir``; ``database`` is created on first start.

        With ``admin=(user, password)`` HTTP authentication is on and that admin user is created.
        """
        super().__init__(workdir, port)
        self.database = database
        self.admin = admin
        self.rpc_port = free_port()

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """TSDB URL in the form BENCHFLEET_TSDB accepts."""
        return f"influxdb://{self.host}:{self.port}/{self.database}"

    def _write_config(self) -> list[str]:
        """Write influxdb.conf for the current ports."""
        if port_open(self.host, self.rpc_port):
            self.rpc_port = free_port()
        conf = self.workdir / "influxdb.conf"
        conf.write_text(
            f"""reporting-disabled = true
bind-address = "{self.host}:{self.rpc_port}"

[meta]
  dir = "{self.workdir}/meta"
  logging-enabled = false

[data]
  dir = "{self.workdir}/data"
  wal-dir = "{self.workdir}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  auth-enabled = {"true" if self.admin else "false"}
  log-enabled = false
  max-body-size = 0

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"""
        )
        return [which("influxd", ["/usr/bin/influxd"]), "run", "-config", str(conf)]

    def _ready(self) -> bool:
        """influxd answers /ping with 204 once its HTTP service is up."""
        try:
            return requests.get(f"{self.http_url}/ping", timeout=1).status_code == 204
        except requests.RequestException:
            return False

    def _after_first_start(self) -> None:
        """Create the admin user (if auth is on; allowed while no user exists) and the test database."""
        if self.admin:
            user, password = self.admin
            password_literal = password.replace("\\", "\\\\").replace("'", "\\'")
            q = f"CREATE USER \"{user}\" WITH PASSWORD '{password_literal}' WITH ALL PRIVILEGES"
            # No credentials on this one: they would be checked against a user that does not exist yet.
            resp = requests.post(f"{self.http_url}/query", params={"q": q}, timeout=10)
            resp.raise_for_status()
        self.query(f'CREATE DATABASE "{self.database}"', method="POST")

    def query(self, q: str, *, method: str = "GET", db: str | None = None) -> dict[str, Any]:
        """Run an InfluxQL statement and return the decoded JSON answer (raises on an error)."""
        params = {"q": q}
        if db is not None:
            params["db"] = db
        resp = requests.request(method, f"{self.http_url}/query", params=params, auth=self.admin, timeout=10)
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()
        for result in body.get("results", []):
            if "error" in result:
                raise ServiceError(f"InfluxQL error for {q!r}: {result['error']}")
        return body

    def count(self, measurement: str, field: str, db: str | None = None) -> int:
        """Count the stored values of one field (0 when the measurement does not exist yet)."""
        body = self.query(f'SELECT count("{field}") FROM "{measurement}"', db=db or self.database)
        series = body["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0


class RedisService(ProcessService):
    """A redis-server of the test's own (Debian's package) on a free port, keeping nothing on disk."""

    name = "redis"

    @property
    def url(self) -> str:
        """URL in the form BENCHFLEET_SOCKETIO_QUEUE accepts."""
        return f"redis://{self.host}:{self.port}/0"

    def _write_config(self) -> list[str]:
        """Command line: loopback only, no persistence, protected mode off for loopback tests."""
        return [
            which("redis-server", ["/usr/bin/redis-server"]),
            "--bind", self.host, "--port", str(self.port), "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir),
        ]  # fmt: skip


class PostgresDatabase:
    """A uniquely named database on the local PostgreSQL server, dropped again by ``drop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5432, user: str = "postgres") -> None:
        """Choose a unique database name; nothing is created yet."""
        self.host = host
        self.port = port
        self.user = user
        self.name = f"benchfleet_test_{uuid.uuid4().hex[:12]}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.name}"

    def _admin(self) -> Any:
        """Open an autocommit connection to the maintenance database (CREATE DATABASE needs autocommit)."""
        import psycopg

        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                dbname="postgres",
                autocommit=True,
                connect_timeout=5,
            )
        except psycopg.OperationalError as err:
            raise ServiceError(
                f"PostgreSQL not reachable at {self.host}:{self.port} as {self.user}: {err} "
                "(scripts/test starts the local cluster)"
            ) from err

    def create(self) -> None:
        """Create the database."""
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        """Drop the database, disconnecting any session a test left open."""
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class AmqttService:
    """The embedded amqtt broker exactly as ``benchfleet demo`` runs it (fleet.embedded_broker)."""

    host = "127.0.0.1"

    def __init__(self, port: int | None = None) -> None:
        """Prepare the broker on ``port`` (a free one if None)."""
        from fleet.embedded_broker import EmbeddedBroker

        self._broker = EmbeddedBroker(self.host, port)
        self.port = self._broker.port
        self._running = False

    @property
    def url(self) -> str:
        """Broker URL in the form BENCHFLEET_MQTT accepts."""
        return self._broker.url

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._running

    def start(self) -> None:
        """Start the broker in a background thread and wait until it accepts connections."""
        self._broker.start(timeout=START_TIMEOUT_S)
        wait_until(lambda: port_open(self.host, self.port), timeout=START_TIMEOUT_S, message="amqtt ready")
        self._running = True

    def stop(self) -> None:
        """Shut the broker down and stop its loop thread."""
        self._broker.stop(timeout=STOP_TIMEOUT_S)
        self._running = False
