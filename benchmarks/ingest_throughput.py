"""Ingestion throughput against a bare paho subscriber, on one Mosquitto and one influxd, in one run.

    python benchmarks/ingest_throughput.py --messages 50000 --benches 1000 --runs 3

(a) bare: a paho subscriber with a persistent session drains N queued telemetry messages (QoS 1).
(b) pipeline: the full ingestion (decode, validate, twin updated, InfluxDB write acknowledged, PUBACK)
    drains the same N messages from `--benches` bench ids, queued in its persistent session first,
    so the publisher is not what is measured.
Both start Mosquitto (max_queued_messages 0 = unlimited) and influxd from Debian's packages on free
ports with temporary folders. Prints each rate, the ratio pipeline/bare and checks that nothing was lost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fleet.registry import BenchRecord  # noqa: E402
from fleet.runtime import build_runtime  # noqa: E402
from fleet.settings import load_settings  # noqa: E402
from tests.payloads import dumps, telemetry  # noqa: E402
from tests.services import InfluxService, MosquittoService  # noqa: E402
from twins.clock import SystemClock  # noqa: E402
from twins.twin import Attributes  # noqa: E402


def _client(port: int, client_id: str, clean: bool) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    return c


def _make_session(port: int, client_id: str) -> None:
    c = _client(port, client_id, clean=False)
    c.loop_start()
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.subscribe("benches/+/telemetry", qos=1)
    done.wait(10)
    c.disconnect()
    c.loop_stop()


def _publish(port: int, payloads: list[tuple[str, bytes]]) -> None:
    pub = _client(port, f"pub-{uuid.uuid4().hex[:6]}", clean=True)
    pub.loop_start()
    infos = [pub.publish(topic, body, qos=1) for topic, body in payloads]
    for info in infos:
        info.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()


def _payloads(n: int, benches: list[str], base: datetime) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        bench = benches[i % len(benches)]
        doc = telemetry(bench, seq=i, ts=(base + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
        out.append((f"benches/{bench}/telemetry", dumps(doc)))
    return out


def bare_rate(port: int, payloads: list[tuple[str, bytes]]) -> float:
    """Messages per second a bare paho subscriber drains from its persistent session."""
    cid = f"bare-{uuid.uuid4().hex[:6]}"
    _make_session(port, cid)
    _publish(port, payloads)
    n = len(payloads)
    got = 0
    done = threading.Event()

    def on_message(*_a: object) -> None:
        nonlocal got
        got += 1
        if got == n:
            done.set()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=False)
    c.on_message = on_message
    started = time.perf_counter()
    c.connect("127.0.0.1", port)
    c.loop_start()
    if not done.wait(300):
        raise RuntimeError(f"bare subscriber got {got}/{n}")
    elapsed = time.perf_counter() - started
    c.disconnect()
    c.loop_stop()
    return n / elapsed


def pipeline_rate(mosq: MosquittoService, influx: InfluxService, payloads: list[tuple[str, bytes]],
                  benches: list[str], workdir: Path) -> tuple[float, int]:
    """Messages per second through the whole ingestion, and how many points influxd holds after."""
    cid = f"ingest-{uuid.uuid4().hex[:6]}"
    settings = load_settings(
        {
            "mqtt": mosq.url,
            "tsdb": influx.url,
            "db": f"sqlite:///{workdir / (cid + '.db')}",
            "data_dir": str(workdir / cid),
            "ingest_client_id": cid,
            "log_level": "WARNING",
        },
        env={},
    )
    rt = build_runtime(settings, SystemClock())
    now = datetime.now(UTC)
    records = [BenchRecord(b, Attributes(name=b, municipality="Bench", lat=44.0, lon=18.0)) for b in benches]
    rt.twins.register(records, now)
    # Create the persistent session (subscriptions) with the real source, then go offline.
    rt.source.start()
    rt.source.connected.wait(10)
    time.sleep(0.5)  # benchmark script, not a test: let the SUBACK land before disconnecting
    rt.source.stop()
    _publish(mosq.port, payloads)
    n = len(payloads)
    started = time.perf_counter()
    rt.start()  # worker, source, publisher, scheduler, and the process tuning of `benchfleet serve`
    while rt.worker.processed < n:
        time.sleep(0.01)
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"pipeline processed {rt.worker.processed}/{n}")
    elapsed = time.perf_counter() - started
    spooled = rt.writer.pending()
    rt.stop()
    return n / elapsed, spooled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--benches", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    benches = [f"bench-{i:05d}" for i in range(args.benches)]
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    mosq = MosquittoService(work / "mosquitto")
    influx = InfluxService(work / "influxd")
    mosq.start()
    influx.start()
    bare, full = [], []
    try:
        for run in range(args.runs):
            base = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=run)
            payloads = _payloads(args.messages, benches, base)
            bare.append(bare_rate(mosq.port, payloads))
            rate, spooled = pipeline_rate(mosq, influx, payloads, benches, work)
            full.append(rate)
            start = base.strftime("%Y-%m-%dT%H:%M:%SZ")
            end = (base + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            stored = influx.query(
                f"SELECT count(seq) FROM telemetry WHERE time >= '{start}' AND time < '{end}'", db=influx.database
            )["results"][0]["series"][0]["values"][0][1]
            lost = args.messages - int(stored)
            print(
                f"run {run + 1}: bare {bare[-1]:,.0f} msg/s, pipeline {rate:,.0f} msg/s, "
                f"ratio {rate / bare[-1]:.2f}, stored {stored}/{args.messages}, lost {lost}, spool {spooled}",
                flush=True,
            )
    finally:
        mosq.stop()
        influx.stop()
    mb, mf = statistics.median(bare), statistics.median(full)
    print(f"median over {args.runs} runs of {args.messages} messages from {args.benches} benches:")
    print(f"  bare paho subscriber: {mb:,.0f} msg/s")
    print(f"  full pipeline:        {mf:,.0f} msg/s")
    print(f"  ratio:                {mf / mb:.2f}")


if __name__ == "__main__":
    main()
