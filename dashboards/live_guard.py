"""Live connections stay only as long as their credential: a removed user, an ended session or a revoked
token loses its Socket.IO connection at the next check (before any further event is sent)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.auth.store import UserStore

log = logging.getLogger(__name__)
#: How often connections are checked when no event is flushed (a removed user must not idle on for long).
CHECK_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class Credential:
    """What a live connection authenticated with: a session version or an API token id."""

    session_id: str | None = None
    token_id: int | None = None


class ConnectionGuard:
    """Remembers each connection's credential; ``revalidate`` drops those whose credential no longer works."""

    def __init__(self, users: UserStore, disconnect: Callable[[str], None]) -> None:
        self.users = users
        self.disconnect = disconnect
        self._lock = threading.Lock()
        self._by_sid: dict[str, Credential] = {}
        self._stop = threading.Event()
        self._task: Any = None

    def start(self, socketio: Any) -> None:
        """Check every ``CHECK_INTERVAL_S`` in a background task of ``socketio``."""
        self._task = socketio.start_background_task(self._run)

    def stop(self) -> None:
        """End the background checks."""
        self._stop.set()
        if self._task is not None:
            self._task.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(CHECK_INTERVAL_S):
            self.revalidate()

    def add(self, sid: str, credential: Credential) -> None:
        """Track a new connection."""
        with self._lock:
            self._by_sid[sid] = credential

    def remove(self, sid: str) -> None:
        """Forget a closed connection."""
        with self._lock:
            self._by_sid.pop(sid, None)

    def revalidate(self) -> list[str]:
        """Disconnect every connection whose credential stopped working; return their sids (two queries)."""
        with self._lock:
            tracked = dict(self._by_sid)
        if not tracked:
            return []
        try:
            sessions = self.users.live_sessions({c.session_id for c in tracked.values() if c.session_id})
            tokens = self.users.live_tokens({c.token_id for c in tracked.values() if c.token_id is not None})
        except Exception:  # the database away: keep everyone for now (live updates go on); the next check retries
            log.exception("checking live connections failed")
            return []
        dead = [
            sid
            for sid, c in tracked.items()
            if not ((c.session_id and c.session_id in sessions) or (c.token_id is not None and c.token_id in tokens))
        ]
        for sid in dead:
            self.remove(sid)
            self.disconnect(sid)
        return dead
