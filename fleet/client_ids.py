"""MQTT client ids of the server processes: unguessable, reserved to the fleet, stable per worker slot.

An id is ``<prefix>-<role>-<slot>``. The prefix is ``bf-<secret>``, with a random secret kept in the data
folder: a bench (or anyone with broker credentials) cannot guess it, so nobody can take over an ingest
session by connecting with its id. A worker's slot (``--worker N``) is stable across restarts, so an ingest
worker killed with kill -9 and started again resumes its persistent session and gets the QoS 1 messages it
had not acknowledged. The dashboard keeps no session: its id ends in a random part.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = "mqtt-client-secret"


def installation_secret(data_dir: Path) -> str:
    """The data folder's secret, created on first use (atomically: concurrent first starts agree on one)."""
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(8) + "\n")
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # fails if another process won the race: then its secret is the one
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def server_client_id(prefix: str, data_dir: Path, role: str, slot: int | None) -> str:
    """``<prefix>-<role>-<slot>``; an empty prefix means ``bf-<secret>``, no slot means a random suffix."""
    base = prefix or f"bf-{installation_secret(data_dir)}"
    return f"{base}-{role}-{slot if slot is not None else secrets.token_hex(4)}"
