"""End to end through real Mosquitto and a real influxd: the foundation's required guarantees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.service_api import EVERYTHING, Scope
from tests.fleet.conftest import RuntimeFactory
from tests.fleet.vote_support import carry
from tests.payloads import BASE_TS, dumps, status, telemetry, vote
from tests.services import InfluxService, MosquittoService
from tests.waiting import wait_until

DEFAULT_BENCHES = ["mostar-01", "trebinje-01", "maglaj-01", "prijedor-01"]


def _fresh_ts() -> datetime:
    # Unique per test run: the session's influxd is shared, and points with equal series+time overwrite.
    return (
        datetime.now(UTC).replace(microsecond=0) - timedelta(days=1) + timedelta(milliseconds=uuid.uuid4().int % 10**6)
    )


def _rfc(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_telemetry_reaches_the_api_and_influx_within_one_second(
    mosquitto: MosquittoService, influxdb: InfluxService, runtime_factory: RuntimeFactory, publisher_factory
) -> None:
    from dashboards.app import create_app
    from dashboards.config import DashboardConfig
    from fleet.auth.store import UserStore

    rt = runtime_factory(mosquitto.url, influxdb.url)
    users = UserStore(rt.engine)
    users.add_user("crew", "a-long-password", "maintenance")
    token = users.create_token("crew")
    app = create_app(DashboardConfig(secret_key="k" * 32, secure_cookies=False), rt.service, users)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}

    def api_seq() -> int | None:
        doc = client.get("/api/benches/mostar-01", headers=auth).get_json()
        return doc["telemetry"]["seq"] if doc["telemetry"] else None

    pub = publisher_factory(mosquitto.url)
    when = _fresh_ts()
    doc = telemetry("mostar-01", seq=777, ts=_rfc(when))
    doc["battery"]["soc_pct"] = 64.5
    try:
        started = time.monotonic()
        pub.publish("benches/mostar-01/telemetry", dumps(doc), qos=1)
        wait_until(lambda: api_seq() == 777, timeout=1.0, message="GET /api/benches/mostar-01 shows the sample")
        q = f"SELECT \"battery.soc_pct\", seq FROM telemetry WHERE bench_id='mostar-01' AND time = '{_rfc(when)}'"
        rows = wait_until(
            lambda: influxdb.query(q, db=influxdb.database)["results"][0].get("series"),
            timeout=max(0.05, 1.0 - (time.monotonic() - started)),
            message="point in influxd (InfluxQL)",
        )
        body = client.get("/api/benches/mostar-01", headers=auth).get_json()
    finally:
        app.extensions["benchfleet"].live.stop()
    assert body["telemetry"]["battery"]["soc_pct"] == 64.5
    assert body["connectivity"]["last_seen"] is not None
    assert rows[0]["values"][0][1:] == [64.5, 777]


def test_vote_delivered_twice_counts_once(
    mosquitto: MosquittoService, influxdb: InfluxService, runtime_factory: RuntimeFactory, publisher_factory
) -> None:
    rt = runtime_factory(mosquitto.url, influxdb.url)
    pub = publisher_factory(mosquitto.url)
    carry(rt, pub, "trebinje-01", "park-2026")
    event = vote("trebinje-01", poll_id="park-2026", option="yes", event_id=str(uuid.uuid4()))
    for _ in range(2):
        pub.publish("benches/trebinje-01/events", dumps(event), qos=1).wait_for_publish(5)
    other = vote("trebinje-01", poll_id="park-2026", option="no")
    pub.publish("benches/trebinje-01/events", dumps(other), qos=1).wait_for_publish(5)

    wait_until(lambda: rt.metrics.votes_duplicate._value.get() >= 1 and rt.store.vote_count() >= 2, timeout=15)
    assert rt.store.vote_count() == 2
    results = rt.service.poll_results("park-2026", EVERYTHING)
    assert results.total == {"yes": 1, "no": 1}
    assert results.by_municipality == {"Trebinje": {"yes": 1, "no": 1}}
    assert rt.service.get_twin("trebinje-01").counted_votes == {"park-2026": {"yes": 1, "no": 1}}
    hour = timedelta(hours=1)
    turnout = rt.service.turnout("park-2026", EVERYTHING, BASE_TS - hour, BASE_TS + hour, hour)
    assert [(s.ts, s.value) for s in turnout] == [(BASE_TS - hour, 0.0), (BASE_TS, 2.0)]
    assert (
        rt.service.turnout("park-2026", Scope(frozenset({"Mostar"})), BASE_TS - hour, BASE_TS + hour, hour)[1].value
        == 0
    )


def test_garbage_is_counted_and_ingestion_goes_on(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, publisher_factory
) -> None:
    # A broker of its own: other tests' retained status/reported messages would be counted too.
    rt = runtime_factory(fresh_mosquitto.url)
    pub = publisher_factory(fresh_mosquitto.url)
    for payload in (b"\xff\xfe", b"[1,2]", b'{"v":1}', dumps(telemetry("unknown-bench-9"))):
        pub.publish("benches/maglaj-01/telemetry", payload, qos=1)
    pub.publish("benches/unknown-bench-9/telemetry", dumps(telemetry("unknown-bench-9")), qos=1)
    pub.publish("benches/maglaj-01/telemetry", dumps(telemetry("maglaj-01", seq=5)), qos=1)
    wait_until(lambda: (t := rt.service.get_twin("maglaj-01")) and t.telemetry and t.telemetry.seq == 5, timeout=15)
    wait_until(lambda: rt.metrics.rejected_total() >= 5, timeout=15)
    text = rt.service.metrics_text()
    assert 'benchfleet_messages_rejected_total{reason="invalid_json"} 1.0' in text
    assert 'benchfleet_messages_rejected_total{reason="not_object"} 1.0' in text
    assert 'benchfleet_messages_rejected_total{reason="bench_id_mismatch"} 1.0' in text
    assert 'benchfleet_messages_rejected_total{reason="unknown_bench"} 1.0' in text


def test_status_last_will_marks_bench_offline(
    mosquitto: MosquittoService, runtime_factory: RuntimeFactory, publisher_factory
) -> None:
    rt = runtime_factory(mosquitto.url)
    pub = publisher_factory(mosquitto.url)
    pub.publish("benches/prijedor-01/status", dumps(status("prijedor-01", True, 0)), qos=1)
    wait_until(lambda: rt.service.get_twin("prijedor-01").connectivity.online is True, timeout=15)
    pub.publish("benches/prijedor-01/status", dumps(status("prijedor-01", False, 5)), qos=1)
    wait_until(lambda: rt.service.get_twin("prijedor-01").connectivity.online is False, timeout=15)
    health = rt.service.get_twin("prijedor-01").health(rt.service.now())
    assert health.status == "critical"
    assert "offline" in [r.code for r in health.reasons]


def _ingest_process(
    mqtt_url: str, influx_url: str, tmp_path: Path, client_id: str, db_url: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BENCHFLEET_MQTT": mqtt_url,
        "BENCHFLEET_TSDB": influx_url,
        "BENCHFLEET_DB": db_url,
        "BENCHFLEET_DATA_DIR": str(tmp_path / "data"),
        "BENCHFLEET_INGEST_CLIENT_ID": client_id,
        "BENCHFLEET_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "ingest"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _count(influxdb: InfluxService, since: datetime, benches: list[str], span: timedelta = timedelta(hours=6)) -> int:
    """Points of ``benches`` in [since, since + span): each test owns its own window of the shared influxd."""
    where = " OR ".join(f"bench_id='{b}'" for b in benches)
    q = (
        f"SELECT count(seq) FROM telemetry WHERE ({where}) "
        f"AND time >= '{_rfc(since)}' AND time < '{_rfc(since + span)}'"
    )
    series = influxdb.query(q, db=influxdb.database)["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


@pytest.mark.slow
def test_ingester_killed_mid_stream_loses_no_message(
    mosquitto: MosquittoService, influxdb: InfluxService, tmp_path: Path, db_url: str, publisher_factory
) -> None:
    client_id = f"ingest-kill-{uuid.uuid4().hex[:6]}"
    proc = _ingest_process(mosquitto.url, influxdb.url, tmp_path, client_id, db_url)
    base = _fresh_ts() - timedelta(days=30)  # a window no other test writes into
    pub = publisher_factory(mosquitto.url)
    total = 3000
    try:
        # The first message proves the ingester is subscribed (its persistent session exists from now on).
        # Re-sent until it lands: same series and time, so influxd keeps one point.
        first = dumps(telemetry(DEFAULT_BENCHES[0], seq=0, ts=_rfc(base)))

        def subscribed() -> bool:
            pub.publish(f"benches/{DEFAULT_BENCHES[0]}/telemetry", first, qos=1)
            return _count(influxdb, base, DEFAULT_BENCHES) == 1

        wait_until(subscribed, timeout=30, interval=0.3, message="ingester up")
        for i in range(1, total):
            bench = DEFAULT_BENCHES[i % len(DEFAULT_BENCHES)]
            doc = telemetry(bench, seq=i, ts=_rfc(base + timedelta(seconds=i)))
            pub.publish(f"benches/{bench}/telemetry", dumps(doc), qos=1)
            if i == total // 3:
                wait_until(
                    lambda: _count(influxdb, base, DEFAULT_BENCHES) > 50, timeout=20, message="mid-stream"
                ) if proc.poll() is None else print(proc.stderr.read().decode())
                proc.send_signal(signal.SIGKILL)  # no goodbye, no flush: unacked messages stay at the broker
                proc.wait(10)
            if i == 2 * total // 3:
                proc = _ingest_process(mosquitto.url, influxdb.url, tmp_path, client_id, db_url)
        wait_until(
            lambda: _count(influxdb, base, DEFAULT_BENCHES) == total,
            timeout=60,
            interval=0.5,
            message=f"all {total} telemetry points in influxd",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert _count(influxdb, base, DEFAULT_BENCHES) == total


@pytest.mark.slow
def test_influxdb_down_for_30_seconds_loses_no_point(
    mosquitto: MosquittoService, fresh_influxdb: InfluxService, runtime_factory: RuntimeFactory, publisher_factory
) -> None:
    rt = runtime_factory(mosquitto.url, fresh_influxdb.url)
    pub = publisher_factory(mosquitto.url)
    base = _fresh_ts()
    sent = 0

    def send(n: int) -> None:
        nonlocal sent
        for _ in range(n):
            bench = DEFAULT_BENCHES[sent % len(DEFAULT_BENCHES)]
            doc = telemetry(bench, seq=sent, ts=_rfc(base + timedelta(seconds=sent)))
            pub.publish(f"benches/{bench}/telemetry", dumps(doc), qos=1)
            sent += 1

    send(100)
    wait_until(lambda: _count(fresh_influxdb, base, DEFAULT_BENCHES) == 100, timeout=10)
    fresh_influxdb.stop()
    outage_end = time.monotonic() + 30.0
    while time.monotonic() < outage_end:  # keep publishing through the whole 30 s outage
        send(20)  # paced by waiting until ingestion has taken every message so far
        wait_until(lambda: rt.worker.processed >= sent, timeout=10, message="ingestion keeps up during outage")
    assert rt.writer.pending() > 0, "points were spooled while influxd was down"
    fresh_influxdb.start()
    wait_until(
        lambda: _count(fresh_influxdb, base, DEFAULT_BENCHES) == sent,
        timeout=60,
        interval=0.5,
        message=f"all {sent} points replayed",
    )
    assert rt.writer.pending() == 0


def test_pipeline_on_the_embedded_amqtt_broker(
    runtime_factory: RuntimeFactory, publisher_factory, tmp_sqlite_url: str
) -> None:
    from fleet.embedded_broker import EmbeddedBroker

    broker = EmbeddedBroker()
    broker.start()
    try:
        rt = runtime_factory(broker.url, db=tmp_sqlite_url)  # SQLite TSDB and SQLite database: the demo's setup
        pub = publisher_factory(broker.url)
        carry(rt, pub, "zepce-01", "bridge-2027")
        pub.publish("benches/zepce-01/telemetry", dumps(telemetry("zepce-01", seq=3)), qos=1)
        event = vote("zepce-01", poll_id="bridge-2027", option="no")
        pub.publish("benches/zepce-01/events", dumps(event), qos=1)
        pub.publish("benches/zepce-01/events", dumps(event), qos=1)
        wait_until(lambda: (t := rt.service.get_twin("zepce-01")) and t.telemetry and t.telemetry.seq == 3, timeout=15)
        wait_until(lambda: rt.metrics.votes_duplicate._value.get() >= 1, timeout=15)
        assert rt.service.poll_results("bridge-2027", EVERYTHING).total == {"no": 1}
        end = datetime(2026, 11, 27, tzinfo=UTC)
        series = rt.service.series("zepce-01", "battery.soc_pct", end - timedelta(days=2), end, timedelta(hours=1))
        assert [s.value for s in series if s.value is not None] == [81.2]
    finally:
        broker.stop()


def test_twins_and_votes_on_postgresql(
    mosquitto: MosquittoService, runtime_factory: RuntimeFactory, publisher_factory
) -> None:
    from fleet.db.engine import make_engine
    from fleet.state.twin_store import TwinStore

    rt = runtime_factory(mosquitto.url)
    assert rt.store.describe().startswith("postgresql")
    pub = publisher_factory(mosquitto.url)
    carry(rt, pub, "ravno-01", "pg-poll")
    pub.publish("benches/ravno-01/telemetry", dumps(telemetry("ravno-01", seq=11)), qos=1)
    event = vote("ravno-01", poll_id="pg-poll", option="yes")
    for _ in range(3):
        pub.publish("benches/ravno-01/events", dumps(event), qos=1)
    wait_until(lambda: rt.metrics.votes_duplicate._value.get() >= 2, timeout=15)
    wait_until(lambda: (t := rt.service.get_twin("ravno-01")) and t.telemetry and t.telemetry.seq == 11, timeout=15)
    engine = make_engine(rt.settings.db)  # another connection sees it: it is committed, not process state
    stored = TwinStore(engine).get_twin("ravno-01")
    engine.dispose()
    assert stored is not None
    assert stored.telemetry is not None
    assert stored.telemetry.seq == 11
    assert rt.service.poll_results("pg-poll", EVERYTHING).by_municipality == {"Ravno": {"yes": 1}}
