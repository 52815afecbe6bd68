"""Fleet events across processes through Redis pub/sub (BENCHFLEET_REDIS).

Every process runs one relay next to its EventBus: events published locally go out on one Redis
channel; events other processes published come in and are injected into the local bus. Each message
carries the origin id of its process, so a process never re-injects its own events.

Redis is a notification path, not a store: while it is down, events are dropped (counted, logged once)
and nothing waits for it, so ingestion never blocks on Redis. When the subscription comes back,
``on_resync`` runs so a cache can reload what it may have missed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from fleet.event_bus import EventBus
from fleet.event_codec import EventDecodeError, decode_event, encode_event
from fleet.events import FleetEvent, TwinChanged

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "benchfleet:events"

# What a dead, restarting or unreachable Redis raises through redis-py.
_REDIS_DOWN = (redis.RedisError, OSError)


def channel_for(url: str) -> str:
    """The events channel of a Redis URL: pub/sub ignores the database number, so the channel carries it."""
    db = urlsplit(url).path.strip("/") or "0"
    return f"{CHANNEL_PREFIX}:{db}"


def new_origin(role: str) -> str:
    """A process's origin id: its role plus a random part (two processes never share one)."""
    return f"{role}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``first_s``, doubling up to ``max_s``."""

    first_s: float = 0.5
    max_s: float = 10.0

    def delays(self) -> Iterable[float]:
        """The delays of successive attempts (endless)."""
        delay = self.first_s
        while True:
            yield delay
            delay = min(delay * 2, self.max_s)


class _Outage:
    """Logs the loss of Redis once (not at every retry) and its return once."""

    def __init__(self, url: str) -> None:
        self._where = _redacted(url)
        self._lock = threading.Lock()
        self._down = False

    def failed(self, what: str, err: BaseException) -> None:
        with self._lock:
            first, self._down = not self._down, True
        if first:
            log.warning("Redis at %s unreachable (%s: %s); live events across processes paused, retrying",
                        self._where, what, err)  # fmt: skip
        else:
            log.debug("Redis at %s still unreachable (%s: %s)", self._where, what, err)

    def recovered(self) -> None:
        with self._lock:
            was, self._down = self._down, False
        if was:
            log.info("Redis at %s reachable again; live events across processes resumed", self._where)


class RedisEventRelay:
    """Bridges one process's EventBus and the Redis events channel (two daemon threads)."""

    def __init__(
        self,
        url: str,
        bus: EventBus,
        *,
        origin: str | None = None,
        channel: str | None = None,
        max_pending: int = 10_000,
        backoff: Backoff = Backoff(),
        on_resync: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self.origin = origin or new_origin("process")
        self.channel = channel or channel_for(url)
        self._bus = bus
        self._backoff = backoff
        self._on_resync = on_resync
        self._max_pending = max_pending
        self._wake = threading.Condition()
        self._twins: dict[str, TwinChanged] = {}
        self._others: deque[FleetEvent] = deque()
        self._stop = threading.Event()
        self._outage = _Outage(url)
        self._threads: list[threading.Thread] = []
        self.subscribed = threading.Event()
        self.sent = 0
        self.received = 0
        self.dropped = 0
        self.bad = 0

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Subscribe to the local bus and start the sender and receiver threads (returns at once)."""
        self._bus.subscribe(self.forward, local_only=True)
        for name, target in (("events-out", self._send_loop), ("events-in", self._receive_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop both threads (events still pending are dropped: they are notifications, not data)."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- out --------------------------------------------------------------------------------------------
    def forward(self, event: FleetEvent) -> None:
        """The bus listener: queue an event for Redis without ever blocking the publisher.

        A bench's twin changes collapse into its latest one until the sender takes them: under load the
        channel carries one twin per bench per round trip instead of one per message.
        """
        with self._wake:
            if isinstance(event, TwinChanged):
                key = event.twin.bench_id
                if key not in self._twins and len(self._twins) >= self._max_pending:
                    self.dropped += 1
                    return
                self._twins[key] = event
            else:
                if len(self._others) >= self._max_pending:  # the oldest goes: newer news is worth more
                    self._others.popleft()
                    self.dropped += 1
                self._others.append(event)
            self._wake.notify()

    def _take(self) -> list[FleetEvent]:
        with self._wake:
            if not self._twins and not self._others:
                self._wake.wait(timeout=0.5)
            events: list[FleetEvent] = [*self._others, *self._twins.values()]
            self._others.clear()
            self._twins.clear()
        return events

    def _send_loop(self) -> None:
        client: redis.Redis | None = None
        delays = iter(self._backoff.delays())
        while not self._stop.is_set():
            events = self._take()
            if not events:
                continue
            try:
                if client is None:
                    client = self._client()
                pipe = client.pipeline(transaction=False)  # one round trip for the whole lot
                for event in events:
                    pipe.publish(self.channel, encode_event(event, self.origin))
                pipe.execute()
            except _REDIS_DOWN as err:
                # Dropped, not retried: they are notifications, and the receivers resync when they resubscribe.
                self.dropped += len(events)
                self._outage.failed("publish", err)
                _close(client)
                client = None
                self._stop.wait(next(delays))
                continue
            self.sent += len(events)
            delays = iter(self._backoff.delays())
        _close(client)

    # -- in ----------------------------------------------------------------------------------------------
    def _receive_loop(self) -> None:
        delays = iter(self._backoff.delays())
        lost = False
        while not self._stop.is_set():
            client: redis.Redis | None = None
            try:
                client = self._client()
                pubsub = client.pubsub()  # type: ignore[no-untyped-call]
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    kind = message.get("type") if message is not None else None
                    if kind == "message":
                        self._inject(message["data"])
                    elif kind == "subscribe":  # confirmed by Redis: from now on nothing published is missed
                        self.subscribed.set()
                        self._outage.recovered()
                        delays = iter(self._backoff.delays())
                        if lost and self._on_resync is not None:
                            self._resync()
                pubsub.close()
            except _REDIS_DOWN as err:
                self.subscribed.clear()
                lost = True
                self._outage.failed("subscribe", err)
                self._stop.wait(next(delays))
            finally:
                _close(client)

    def _inject(self, data: bytes) -> None:
        try:
            origin, event = decode_event(data)
        except EventDecodeError as err:
            self.bad += 1
            log.warning("ignored a message on %s: %s", self.channel, err)
            return
        if origin == self.origin:
            return
        self.received += 1
        self._bus.inject(event)

    def _resync(self) -> None:
        assert self._on_resync is not None
        try:
            self._on_resync()
        except Exception:  # a failing resync must not end the relay
            log.exception("resync after a Redis outage failed")

    def _client(self) -> redis.Redis:
        return _connect(self.url, health_check_interval=15)


def publish_events(url: str, events: Iterable[FleetEvent], origin: str) -> int:
    """Publish events once from a short-lived command (e.g. ``benches import``); returns how many went out.

    Raises redis.RedisError or OSError when Redis is unreachable (the caller says what that means).
    """
    client = _connect(url)
    try:
        channel = channel_for(url)
        sent = 0
        for event in events:
            client.publish(channel, encode_event(event, origin))
            sent += 1
        return sent
    finally:
        client.close()


def _connect(url: str, health_check_interval: int = 0) -> redis.Redis:
    # No retries inside redis-py (its default backs off up to 10 s per call, three times): the relay's own
    # loop decides when to try again, so a Redis that is back is used within one backoff step.
    # Health checks find a half-open connection (Redis killed without a FIN) within the interval.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=health_check_interval,
        retry=Retry(NoBackoff(), 0),
    )


def _close(client: redis.Redis | None) -> None:
    if client is not None:
        with contextlib.suppress(*_REDIS_DOWN):
            client.close()


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path}"
