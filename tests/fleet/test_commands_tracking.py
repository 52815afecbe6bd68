"""Command tracking in PostgreSQL: published on benches/{id}/cmd (QoS 1, not retained), finished once by its answer."""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine

from fleet.db.engine import make_engine
from fleet.db.store import SqlStore
from fleet.desired_publisher import DesiredPublisher
from fleet.ops.audit import AuditLog, AuditQuery
from fleet.ops.commands import CommandRefused, CommandService, CommandTimeouts, record_command_results
from fleet.registry import default_fleet
from fleet.settings import parse_mqtt_url
from fleet.state.twin_store import TwinStore
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.clock import ManualClock, to_rfc3339
from twins.codec import decode

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass
class Kit:
    engine: Engine
    clock: ManualClock
    service: CommandService
    audit: AuditLog
    received: queue.Queue[mqtt.MQTTMessage]


@pytest.fixture
def kit(db_url: str, mosquitto: MosquittoService) -> Iterator[Kit]:
    engine = make_engine(db_url)
    SqlStore(engine).create_schema()
    TwinStore(engine).register(default_fleet(), T0)
    clock = ManualClock(T0)
    publisher = DesiredPublisher(parse_mqtt_url(mosquitto.url), f"cmd-test-{uuid.uuid4().hex[:8]}")
    publisher.start()
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"cmd-sub-{uuid.uuid4().hex[:8]}")
    subscribed = queue.Queue[int]()
    sub.on_message = lambda _c, _u, msg: received.put(msg)
    sub.on_subscribe = lambda *_a: subscribed.put(1)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.loop_start()
    sub.subscribe("benches/+/cmd", qos=1)
    subscribed.get(timeout=10)
    wait_until(publisher.connected.is_set, timeout=10, message="publisher connected")
    audit = AuditLog(engine, clock)
    try:
        yield Kit(engine, clock, CommandService(engine, publisher, audit, clock), audit, received)
    finally:
        sub.loop_stop()
        sub.disconnect()
        publisher.stop()
        engine.dispose()


def _answer(bench_id: str, command_id: str, ok: bool = True, **data: Any) -> Any:
    doc = {
        "v": 1,
        "bench_id": bench_id,
        "ts": to_rfc3339(T0),
        "id": command_id,
        "type": "cmd_result",
        "data": {"name": "ping", "ok": ok, "result": data, "error": None if ok else "broken"},
    }
    return decode(f"benches/{bench_id}/events", json.dumps(doc).encode())


def test_a_command_is_published_once_not_retained_with_its_uuid(kit: Kit) -> None:
    record = kit.service.send("mostar-01", "self_test", {}, "max")
    msg = kit.received.get(timeout=10)
    assert msg.topic == "benches/mostar-01/cmd"
    assert msg.qos == 1
    assert not msg.retain
    doc = json.loads(msg.payload)
    assert (doc["id"], doc["name"], doc["args"], doc["bench_id"]) == (record.id, "self_test", {}, "mostar-01")
    assert str(uuid.UUID(record.id)) == record.id
    assert record.status == "sent"
    assert record.actor == "max"
    assert record.sent_at == T0


def test_the_answer_finishes_the_command_once(kit: Kit) -> None:
    record = kit.service.send("mostar-01", "ping", {}, "max")
    later = T0 + timedelta(seconds=2)
    assert record_command_results(kit.engine, [_answer("trebinje-01", record.id)], later) == 0  # not its bench
    assert kit.service.get(record.id).status == "sent"  # type: ignore[union-attr]
    assert record_command_results(kit.engine, [_answer("mostar-01", record.id, uptime_s=5.0)], later) == 1
    assert record_command_results(kit.engine, [_answer("mostar-01", record.id, ok=False)], later) == 0  # redelivery
    done = kit.service.get(record.id)
    assert done is not None
    assert (done.status, done.result, done.error, done.finished_at) == ("succeeded", {"uptime_s": 5.0}, None, later)
    assert kit.service.recent("mostar-01")[0].id == record.id


def test_a_failed_answer_is_recorded_with_its_error(kit: Kit) -> None:
    record = kit.service.send("maglaj-01", "ping", {}, "ada")
    record_command_results(kit.engine, [_answer("maglaj-01", record.id, ok=False)], T0)
    done = kit.service.get(record.id)
    assert done is not None
    assert (done.status, done.error) == ("failed", "broken")
    entry = kit.audit.entries(AuditQuery(bench_id="maglaj-01"), None)[0]
    assert (entry.actor, entry.action, entry.after["status"]) == ("bench:maglaj-01", "command.result", "failed")


def test_a_late_answer_does_not_revive_a_timed_out_command(kit: Kit) -> None:
    record = kit.service.send("mostar-01", "reboot", {}, "max")
    kit.clock.advance(timedelta(seconds=59))
    assert CommandTimeouts(kit.engine, kit.clock).run() == 0
    kit.clock.advance(timedelta(seconds=2))
    assert CommandTimeouts(kit.engine, kit.clock).run() == 1
    assert record_command_results(kit.engine, [_answer("mostar-01", record.id)], kit.clock.now()) == 0
    assert kit.service.get(record.id).status == "timed_out"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bench", "name", "args", "error"),
    [
        ("mostar-01", "ota", {}, CommandRefused),  # firmware goes through rollouts
        ("mostar-01", "format_disk", {}, CommandRefused),
        ("no-such-bench", "ping", {}, KeyError),
    ],
)
def test_refused_commands_are_neither_stored_nor_sent(
    kit: Kit, bench: str, name: str, args: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        kit.service.send(bench, name, args, "max")
    assert kit.service.recent(bench) == []
    assert kit.received.empty()
