"""A PostgreSQL instance of one test's own (initdb + pg_ctl into a temp folder, free port), which the test
may stop and start again; the shared server on 5432 is never touched."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.services import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"{name} not found under /usr/lib/postgresql/*/bin (install postgresql)")
    return found[-1]


class PrivatePostgres:
    """initdb'd cluster with trust auth on 127.0.0.1 and a free port; ``url`` names its ``postgres`` database."""

    def __init__(self) -> None:
        """Create the cluster's folder (not yet initialised)."""
        # Not under pytest's tmp_path: the server runs as the postgres user, which must reach the folder.
        self.root = Path(tempfile.mkdtemp(prefix="benchfleet-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.running = False
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str) -> None:
        # initdb refuses to run as root: run the server tools as the postgres user then.
        full = ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)
        done = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr or done.stdout}")

    def init(self) -> None:
        """initdb the cluster (trust auth, superuser postgres)."""
        self._run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        self.running = True

    def stop(self) -> None:
        """Stop the server (fast: open sessions are cut, as when a database host goes away)."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def remove(self) -> None:
        """Stop if running and delete the cluster."""
        if self.running:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
