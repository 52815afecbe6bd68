"""The bench agent's core: single-threaded and event-driven, with no threads, sleeps or clock of its own.

A host drives it: ``start()`` once, ``tick(now)`` often (sampling, load shedding, draining the outbox
at a bounded rate, the OTA trial), and ``handle(event)`` for everything the transport reports. The same
object runs one real bench (``firmware_agent.host``) or one of 10,000 simulated benches in one process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from twins.codec import Rejected, decode_payload, encode
from twins.config import BenchConfig, ShedLoad
from twins.messages import (
    BenchEvent,
    CmdResultData,
    Command,
    ConfigReport,
    Desired,
    FirmwareInfo,
    OtaProgressData,
    Reported,
)
from twins.shedding import next_shed, ordered
from twins.topics import QOS, TopicKind, topic_for
from twins.twin import default_config

from .commands import COMMANDS
from .config_store import AppliedConfig, ConfigStore
from .hardware.base import Bench, HardwareError
from .ota.releases import ReleaseStore, Trial
from .ota.updater import OtaUpdater
from .outbox.base import Category, Outbox, OutboxError
from .outputs import ApplyError, Outputs, apply_outputs, outputs_for
from .sampler import Sampler
from .transport.base import Connected, Disconnected, Published, Received, Transport, TransportEvent
from .wire import (
    boot_event,
    cmd_result_event,
    ota_event,
    session_event,
    status_payload,
    status_topic,
    tamper_event,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """Tunables of the agent core."""

    drain_rate_per_s: float = 20.0
    max_inflight: int = 20
    rollback_timeout_s: float = 300.0
    max_trial_starts: int = 3
    boot_reason: str = "start"


class BenchAgent:
    """One bench's agent; every method runs on the host's single loop thread."""

    def __init__(
        self,
        bench_id: str,
        bench: Bench,
        outbox: Outbox,
        transport: Transport,
        config_store: ConfigStore,
        firmware_version: str,
        settings: AgentSettings | None = None,
        releases: ReleaseStore | None = None,
        updater: OtaUpdater | None = None,
    ) -> None:
        self.bench_id = bench_id
        self.bench = bench
        self.outbox = outbox
        self.transport = transport
        self.config_store = config_store
        self.settings = settings or AgentSettings()
        self.releases = releases
        self.updater = updater
        stored = config_store.load()
        self.applied = stored or AppliedConfig(0, default_config())
        self.firmware = FirmwareInfo(version=firmware_version)
        self.shed: frozenset[ShedLoad] = frozenset()
        self.outputs: Outputs | None = None
        self.sampler = Sampler(bench_id, bench)
        # After a reboot the stored version is what the bench last applied: say so again.
        self.config_report: ConfigReport | None = (
            ConfigReport(version=self.applied.version, status="applied") if self.applied.version else None
        )
        self.restart_requested: str | None = None
        self._rejected_version = 0
        self._inflight: dict[int, int] = {}
        self._cursor = 0
        self._tokens = 0.0
        self._last_tick: datetime | None = None
        self._reported_dirty = True
        self._trial: Trial | None = None
        self._trial_deadline: datetime | None = None
        self._started_at: datetime | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def config(self) -> BenchConfig:
        """The configuration in force (immutable; safe to read from the kiosk's threads)."""
        return self.applied.config

    @property
    def started_at(self) -> datetime | None:
        """When ``start`` ran."""
        return self._started_at

    def start(self, now: datetime) -> None:
        """Switch the hardware to the stored config, record the boot and open an OTA trial if one is pending."""
        self._started_at = now
        soc = self._soc_or_none()
        if soc is not None:
            # Decide shedding before the first switch, so a low battery never sees the loads come on.
            self.shed = next_shed(frozenset(), soc, self.config.load_shedding)
        target = outputs_for(self.config, self.shed, self.bench.ports.ports())
        try:
            apply_outputs(self.bench, None, target)
            self.outputs = target
        except ApplyError as err:
            log.error("%s: could not apply the stored config at start: %s", self.bench_id, err)
        if self.releases is not None:
            self._trial = self.releases.count_start()
            previous = self.releases.previous_of(self.firmware.version)
            if self._trial is not None:
                self._trial_deadline = now + timedelta(seconds=self.settings.rollback_timeout_s)
                previous = self._trial.previous
            self.firmware = FirmwareInfo(version=self.firmware.version, previous=previous)
        self.emit(boot_event(self.bench_id, now, self.firmware.version, self.settings.boot_reason))
        if self._trial is not None and self._trial.starts > self.settings.max_trial_starts:
            self._roll_back(now, f"version {self._trial.version} restarted {self._trial.starts} times unconfirmed")

    def tick(self, now: datetime) -> None:
        """Do whatever is due at ``now``: OTA deadline, load shedding, sampling, events, publishing."""
        if self._trial is not None and self._trial_deadline is not None and now >= self._trial_deadline:
            self._roll_back(now, f"no broker connection within {self.settings.rollback_timeout_s:g} s")
        self._shed_loads()
        if self.sampler.due(now, self.config.telemetry_interval_s):
            self._sample(now)
        self._collect_events(now)
        if self._reported_dirty and self.transport.is_connected():
            self._publish_reported(now)
        self._drain(now)

    def handle(self, event: TransportEvent, now: datetime) -> None:
        """Dispatch one transport event."""
        _HANDLERS[type(event)](self, event, now)

    # -- transport events --------------------------------------------------------------------------
    def on_connected(self, event: Connected, now: datetime) -> None:
        """Subscribe, announce online (same ts as the will), publish reported and confirm an OTA trial."""
        for kind in (TopicKind.DESIRED, TopicKind.CMD):
            self.transport.subscribe(topic_for(self.bench_id, kind), QOS)
        online_ts = event.will_ts or now
        self.transport.publish(status_topic(self.bench_id), status_payload(self.bench_id, True, online_ts), QOS, True)
        if self._trial is not None and self.releases is not None:
            self.releases.confirm()
            self.emit(ota_event(self.bench_id, now, OtaProgressData(version=self._trial.version, stage="done")))
            self._trial = self._trial_deadline = None
        self._publish_reported(now)

    def on_disconnected(self, event: Disconnected, now: datetime) -> None:
        """Nothing to undo: unacknowledged messages stay in the outbox and in the client's session."""
        log.info("%s: disconnected (%s); %d messages waiting", self.bench_id, event.reason, self.outbox.count())

    def on_published(self, event: Published, now: datetime) -> None:
        """PUBACK: the message has left the bench, delete it from the outbox."""
        row_id = self._inflight.pop(event.mid, None)
        if row_id is not None:
            self._ack(row_id)

    def _ack(self, row_id: int) -> None:
        try:
            self.outbox.ack(row_id)
        except OutboxError as err:
            # Not deleted means sent again later: a duplicate, never a loss.
            log.error("%s: could not delete message %d from the outbox: %s", self.bench_id, row_id, err)

    def on_received(self, event: Received, now: datetime) -> None:
        """Route a message on ``desired`` or ``cmd``."""
        if event.topic == topic_for(self.bench_id, TopicKind.DESIRED):
            self.on_desired(event.payload, now)
        elif event.topic == topic_for(self.bench_id, TopicKind.CMD):
            self.on_command(event.payload, now)
        else:
            log.warning("%s: message on unexpected topic %s ignored", self.bench_id, event.topic)

    def forget_inflight(self) -> None:
        """The client lost its unacknowledged messages (a host replaced it): resend from the outbox."""
        self._inflight.clear()
        self._cursor = 0

    # -- outbox ------------------------------------------------------------------------------------
    def emit(self, event: BenchEvent) -> None:
        """Store an event in the outbox (votes go through ``VoteBox`` so they are tallied)."""
        try:
            self.outbox.put(TopicKind.EVENTS, Category.EVENT, encode(event), event.ts.timestamp())
        except OutboxError as err:
            log.error("%s: %s event lost: %s", self.bench_id, event.type, err)

    def _drain(self, now: datetime) -> None:
        rate = self.settings.drain_rate_per_s
        elapsed = (now - self._last_tick).total_seconds() if self._last_tick else 1.0
        self._last_tick = now
        self._tokens = min(max(rate, 1.0), self._tokens + max(0.0, elapsed) * rate)
        if not self.transport.is_connected() or self.outbox.count() == 0:
            return  # count() is kept in memory: an idle bench costs no query
        room = min(int(self._tokens), self.settings.max_inflight - len(self._inflight))
        if room <= 0:
            return
        try:
            entries = self.outbox.pending(self._cursor, room)
        except OutboxError as err:
            log.error("%s: outbox unreadable: %s", self.bench_id, err)
            return
        for entry in entries:
            mid = self.transport.publish(topic_for(self.bench_id, entry.kind), entry.payload, QOS, False)
            self._cursor = entry.row_id
            if mid is None:
                log.error("%s: message %d refused by the client, dropped", self.bench_id, entry.row_id)
                self._ack(entry.row_id)
                continue
            self._inflight[mid] = entry.row_id
            self._tokens -= 1

    @property
    def inflight(self) -> int:
        """Messages published and not yet acknowledged."""
        return len(self._inflight)

    # -- sampling, shedding, events ----------------------------------------------------------------
    def _sample(self, now: datetime) -> None:
        try:
            telemetry = self.sampler.sample(now, self.shed, self.outbox.vote_counts())
        except (HardwareError, OutboxError) as err:
            log.warning("%s: sample skipped: %s", self.bench_id, err)
            return
        try:
            self.outbox.put(TopicKind.TELEMETRY, Category.TELEMETRY, encode(telemetry), now.timestamp())
        except OutboxError as err:
            log.error("%s: sample %d lost: %s", self.bench_id, telemetry.seq, err)

    def _shed_loads(self) -> None:
        try:
            soc = self.bench.battery.read_battery().soc_pct
        except HardwareError as err:
            log.warning("%s: battery unreadable, load shedding unchanged: %s", self.bench_id, err)
            return
        shed = next_shed(self.shed, soc, self.config.load_shedding)
        if shed == self.shed:
            return
        target = outputs_for(self.config, shed, self.bench.ports.ports())
        try:
            apply_outputs(self.bench, self.outputs, target)
        except ApplyError as err:
            log.error("%s: load shedding to %s failed: %s", self.bench_id, ordered(shed), err)
            return
        log.info("%s: battery %.1f %%, shed %s", self.bench_id, soc, ordered(shed) or "nothing")
        self.shed, self.outputs = shed, target
        self._reported_dirty = True

    def _collect_events(self, now: datetime) -> None:
        try:
            sessions = self.bench.ports.finished_sessions()
            alarms = self.bench.tamper.triggered()
        except HardwareError as err:
            log.warning("%s: events unreadable: %s", self.bench_id, err)
            return
        for session in sessions:
            self.emit(session_event(self.bench_id, now, session))
        for alarm in alarms:
            self.emit(tamper_event(self.bench_id, now, alarm))

    # -- reported ----------------------------------------------------------------------------------
    def reported(self, now: datetime) -> Reported:
        """The bench's state document."""
        return Reported(
            v=1,
            bench_id=self.bench_id,
            ts=now,
            firmware=self.firmware,
            hardware=self.bench.info,
            config=self.config_report,
            applied_config=self.config,
            shed=ordered(self.shed),
        )

    def _publish_reported(self, now: datetime) -> None:
        mid = self.transport.publish(
            topic_for(self.bench_id, TopicKind.REPORTED), encode(self.reported(now)), QOS, True
        )
        self._reported_dirty = mid is None

    def _report(self, report: ConfigReport) -> None:
        self.config_report = report
        self._reported_dirty = True

    # -- desired config ----------------------------------------------------------------------------
    def on_desired(self, payload: bytes, now: datetime) -> None:
        """Validate, apply all-or-nothing, persist and report a desired config; ignore stale versions."""
        version = _peek_version(payload)
        if version is None:
            log.warning("%s: desired document without a usable version ignored", self.bench_id)
            return
        if version <= self.applied.version or version == self._rejected_version:
            log.info("%s: desired version %d ignored (applied %d)", self.bench_id, version, self.applied.version)
            return
        try:
            desired = decode_payload(TopicKind.DESIRED, payload)
            assert isinstance(desired, Desired)
            if desired.bench_id != self.bench_id:
                raise ValueError(f"bench_id {desired.bench_id!r} is not this bench")
            self._apply(AppliedConfig(desired.version, desired.config))
        except (Rejected, ValueError, ApplyError, OSError) as err:
            self._rejected_version = version
            log.warning("%s: desired version %d rejected: %s", self.bench_id, version, err)
            self._report(ConfigReport(version=version, status="rejected", error=str(err)))
            return
        self._report(ConfigReport(version=version, status="applied"))

    def _apply(self, new: AppliedConfig) -> None:
        soc = self._soc_or_none()
        # An unreadable battery keeps the current shedding; the next readable tick re-evaluates it.
        shed = self.shed if soc is None else next_shed(self.shed, soc, new.config.load_shedding)
        target = outputs_for(new.config, shed, self.bench.ports.ports())
        apply_outputs(self.bench, self.outputs, target)
        try:
            self.config_store.save(new)
        except OSError:
            # Not stored means a reboot would bring back the old config: undo, so the bench never
            # runs a config it could not keep.
            if self.outputs is not None:
                apply_outputs(self.bench, target, self.outputs)
            raise
        self.applied, self.outputs, self.shed = new, target, shed

    def _soc_or_none(self) -> float | None:
        try:
            return self.bench.battery.read_battery().soc_pct
        except HardwareError:
            return None

    # -- commands ----------------------------------------------------------------------------------
    def on_command(self, payload: bytes, now: datetime) -> None:
        """Run a command and answer with a ``cmd_result`` event carrying the command's id."""
        try:
            command = decode_payload(TopicKind.CMD, payload)
            assert isinstance(command, Command)
        except Rejected as err:
            self._answer_malformed(payload, now, err)
            return
        handler = COMMANDS[command.name]
        try:
            result = handler(self, command, now)
        except Exception as err:  # a command must always be answered, whatever broke
            log.exception("%s: command %s failed", self.bench_id, command.name)
            result = CmdResultData(name=command.name, ok=False, error=f"{type(err).__name__}: {err}")
        self.emit(cmd_result_event(self.bench_id, now, command.id, result))

    def _answer_malformed(self, payload: bytes, now: datetime, err: Rejected) -> None:
        from uuid import UUID

        doc = _json_object(payload)
        try:
            command_id = UUID(str(doc.get("id")))
        except ValueError:
            log.warning("%s: command without a usable id ignored: %s", self.bench_id, err)
            return
        name = str(doc.get("name") or "unknown")[:64] or "unknown"
        self.emit(cmd_result_event(self.bench_id, now, command_id, CmdResultData(name=name, ok=False, error=str(err))))

    def request_restart(self, reason: str) -> None:
        """Ask the host to restart the agent (it exits; systemd starts it again)."""
        self.restart_requested = reason

    def ota_progress(self, data: OtaProgressData, now: datetime) -> None:
        """Queue an ``ota_progress`` event."""
        self.emit(ota_event(self.bench_id, now, data))

    def _roll_back(self, now: datetime, why: str) -> None:
        assert self._trial is not None
        assert self.releases is not None
        version = self._trial.version
        back_to = self.releases.roll_back()
        log.error("%s: rolling back %s to %s: %s", self.bench_id, version, back_to or "factory install", why)
        self.ota_progress(OtaProgressData(version=version, stage="rolled_back", error=why), now)
        self._trial = self._trial_deadline = None
        self.request_restart("rollback")


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(payload)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _peek_version(payload: bytes) -> int | None:
    version = _json_object(payload).get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) and version >= 0 else None


_HANDLERS: dict[type[Any], Callable[[BenchAgent, Any, datetime], None]] = {
    Connected: BenchAgent.on_connected,
    Disconnected: BenchAgent.on_disconnected,
    Published: BenchAgent.on_published,
    Received: BenchAgent.on_received,
}

__all__ = ["AgentSettings", "BenchAgent"]
