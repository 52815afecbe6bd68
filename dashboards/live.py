"""The Socket.IO bridge: fleet events in, coalesced per-room updates out, only to clients allowed to see them.

Rooms: ``all`` (admin, maintenance), ``m:<municipality>`` (municipal staff) and ``public`` (read-only vote
tallies when public results are switched on). Twin changes are throttled per bench on the leading edge: a
bench quiet for ``interval_s`` goes out at the next flush (flushes are ``min_gap_s`` apart, 10 ms), while a
busy bench's updates collapse into its latest state and go out at most once per ``interval_s``. So each
client gets at most ``1 / interval_s`` updates per bench per second (2 at the default 0.5 s), and a single
change reaches the browser without waiting for a window.

The bridge hears only the process's EventBus (the composition root subscribes ``on_event``), which carries
events after they are durable, from this process and, through fleet.event_relay, from the others. Every
process emits to its own clients only (``ignore_queue``): each one hears every event itself, so going
through the Socket.IO message queue as well would deliver each event once per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from flask import request
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from dashboards.live_guard import ConnectionGuard, Credential
from dashboards.views_model import summarise
from fleet.auth.store import User, UserStore
from fleet.events import ConfigStatusChanged, FleetEvent, TwinChanged, VoteCounted
from fleet.service_api import FleetApi, Scope
from twins.clock import to_rfc3339
from twins.twin import Twin

ALL_ROOM = "all"
PUBLIC_ROOM = "public"


def municipality_room(municipality: str) -> str:
    """The room of one municipality's staff."""
    return f"m:{municipality}"


def rooms_for(scope: Scope) -> list[str]:
    """Rooms a user with ``scope`` joins."""
    if scope.municipalities is None:
        return [ALL_ROOM]
    return [municipality_room(m) for m in sorted(scope.municipalities)]


Emit = Callable[[str, Any, str], None]


class Companion(Protocol):
    """A background loop that lives as long as the live bridge (started and stopped with it)."""

    def start(self, socketio: SocketIO) -> None:
        """Start the loop as a Socket.IO background task."""
        ...

    def stop(self) -> None:
        """End the loop."""
        ...


class LiveBridge:
    """Receives fleet events on any thread, emits them from one background task."""

    def __init__(
        self,
        socketio: SocketIO,
        fleet: FleetApi,
        users: UserStore,
        interval_s: float,
        public: bool,
        min_gap_s: float = 0.01,
    ) -> None:
        self.socketio = socketio
        self.fleet = fleet
        self.users = users
        self.interval_s = interval_s
        self.min_gap_s = min_gap_s
        self.public = public
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._twins: dict[str, Twin] = {}
        self._newest: dict[str, Twin] = {}  # bench → the newest twin taken (to drop crossed, older events)
        self._next_ok: dict[str, float] = {}  # bench → monotonic time its next update may go out
        self._instant: list[tuple[str, dict[str, Any], list[str]]] = []
        self._health: dict[str, tuple[str, ...]] = {}
        self._task: Any = None
        self._companions: list[Companion] = []
        self.emit: Emit = lambda event, data, room: socketio.emit(event, data, to=room, ignore_queue=True)
        # Issue 8: connections whose user, session or token has gone are dropped (before a flush, and every second).
        self.guard = ConnectionGuard(users, lambda sid: socketio.server.disconnect(sid, namespace="/"))
        self.flushes = 0

    # -- in: called by the fleet's ingestion thread; only stores and wakes -------------------------
    def on_event(self, event: FleetEvent) -> None:
        """Take one fleet event (fast, thread-safe)."""
        with self._lock:
            if isinstance(event, TwinChanged):
                if not self._is_news(event.twin):
                    return
                self._twins[event.twin.bench_id] = event.twin
            elif isinstance(event, ConfigStatusChanged):
                self._instant.append(("config_status", _config_status(event), [municipality_room(event.municipality)]))
            elif isinstance(event, VoteCounted):
                self._instant.append(("vote", _vote(event), [municipality_room(event.municipality)]))
                if self.public:
                    public = {"poll_id": event.poll_id, "option": event.option, "municipality": event.municipality}
                    self._instant.append(("vote", public, [PUBLIC_ROOM]))
        self._wake.set()

    def _is_news(self, twin: Twin) -> bool:
        """False for a twin older in every section than the last one taken (the caller holds the lock).

        Events of several ingest processes can cross on their way here: a worker that read its twin back
        just before another committed a newer sample may announce it last. Browsers must end on the newest.
        """
        held = self._newest.get(twin.bench_id)
        new, old = twin.versions(), held.versions() if held is not None else None
        if old is not None and new != old and all(new[k] <= old[k] for k in new):
            return False
        self._newest[twin.bench_id] = twin
        return True

    # -- out ------------------------------------------------------------------------------------------
    def flush_once(self) -> int:
        """Emit everything that is due; return how many messages went out."""
        self.guard.revalidate()
        now = time.monotonic()
        with self._lock:
            twins = {b: t for b, t in self._twins.items() if self._next_ok.get(b, 0.0) <= now}
            for bench_id in twins:
                del self._twins[bench_id]
                self._next_ok[bench_id] = now + self.interval_s
            instant, self._instant = self._instant, []
        sent = 0
        for name, data, rooms in instant:
            for room in rooms + ([ALL_ROOM] if rooms[0] != PUBLIC_ROOM else []):
                self.emit(name, data, room)
                sent += 1
        if twins:
            sent += self._emit_twins(list(twins.values()))
        self.flushes += 1
        return sent

    def _emit_twins(self, twins: list[Twin]) -> int:
        now = self.fleet.now()
        by_room: dict[str, list[dict[str, Any]]] = {ALL_ROOM: []}
        alerts: list[tuple[dict[str, Any], str]] = []
        for twin in twins:
            summary = summarise(twin, now)
            doc = summary.as_json()
            by_room[ALL_ROOM].append(doc)
            by_room.setdefault(municipality_room(twin.attributes.municipality), []).append(doc)
            if self._health.get(twin.bench_id) != summary.reasons:
                self._health[twin.bench_id] = summary.reasons
                alert = {
                    "bench_id": twin.bench_id,
                    "municipality": twin.attributes.municipality,
                    "health": summary.health,
                    "reasons": twin.health(now).as_doc()["reasons"],
                }
                alerts.append((alert, municipality_room(twin.attributes.municipality)))
        for room, docs in by_room.items():
            self.emit("twin", {"twins": docs}, room)
        # "health": a bench's derived health changed. The "alert" event is the alarms' (one per alarm
        # transition, dashboards/blueprints/alarms.py).
        for alert, room in alerts:
            self.emit("health", alert, room)
            self.emit("health", alert, ALL_ROOM)
        return len(by_room) + 2 * len(alerts)

    def _wait_s(self) -> float:
        """How long the loop may sleep: until the earliest held-back bench is due (1 s when none is)."""
        with self._lock:
            if self._instant:
                return 0.0
            due = min((self._next_ok.get(b, 0.0) for b in self._twins), default=None)
        return 1.0 if due is None else max(0.0, due - time.monotonic())

    def run(self) -> None:
        """The background loop: wait for an event or a held-back bench, flush what is due, rest ``min_gap_s``."""
        while not self._stop.is_set():
            self._wake.wait(timeout=self._wait_s())
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.flush_once()
            except Exception:  # a bad event must not end live updates for everyone
                self.socketio.server.logger.exception("live flush failed")
            # Batches the events of a burst into one flush; an Event wait so stop() ends it at once.
            self._stop.wait(self.min_gap_s)

    @property
    def running(self) -> bool:
        """True once ``start`` ran and until ``stop``."""
        return self._task is not None and not self._stop.is_set()

    def start(self) -> None:
        """Start the background loop (the composition root subscribes ``on_event`` to the bus)."""
        self._task = self.socketio.start_background_task(self.run)
        self.guard.start(self.socketio)
        for companion in self._companions:
            companion.start(self.socketio)

    def add_companion(self, companion: Companion) -> None:
        """Start and stop ``companion`` with this bridge (e.g. the alarm announcer): create_app starts nothing."""
        self._companions.append(companion)

    def stop(self) -> None:
        """End the background loop (tests, shutdown)."""
        self._stop.set()
        self._wake.set()
        self.guard.stop()
        for companion in self._companions:
            companion.stop()
        if self._task is not None:
            self._task.join(timeout=5)

    # -- connections ----------------------------------------------------------------------------------
    def install(self) -> None:
        """Register the connect handler: authenticate, then join only the allowed rooms."""

        def _connect(auth: Any = None) -> bool:
            user, credential = self._user(auth)
            if user is None:
                if self.public and isinstance(auth, dict) and auth.get("public"):
                    join_room(PUBLIC_ROOM)
                    return True
                raise ConnectionRefusedError("unauthenticated")
            for room in rooms_for(user.scope()):
                join_room(room)
            self.guard.add(request.sid, credential)  # type: ignore[attr-defined]
            return True

        self.socketio.on_event("connect", _connect)
        self.socketio.on_event("disconnect", lambda *_: self.guard.remove(request.sid))  # type: ignore[attr-defined]

    def _user(self, auth: Any) -> tuple[User | None, Credential]:
        if current_user and current_user.is_authenticated:
            found: User = current_user.user
            return found, Credential(session_id=current_user.session_id, token_id=current_user.token_id)
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else None
        if not token:
            return None, Credential()
        return self.users.user_for_token(token), Credential(token_id=self.users.token_id(token))


def _config_status(event: ConfigStatusChanged) -> dict[str, Any]:
    return {
        "bench_id": event.bench_id,
        "municipality": event.municipality,
        "version": event.version,
        "state": event.state,
        "error": event.error,
        "at": to_rfc3339(event.at),
    }


def _vote(event: VoteCounted) -> dict[str, Any]:
    return {
        "bench_id": event.bench_id,
        "municipality": event.municipality,
        "poll_id": event.poll_id,
        "option": event.option,
        "at": to_rfc3339(event.at),
    }
