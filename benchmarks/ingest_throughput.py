"""Ingestion drain: `benchfleet ingest` with 1, 2 and 4 workers against bare paho, influxd and Node-RED.

    python benchmarks/ingest_throughput.py                    # 30,000 messages, 1,000 benches, 3 runs, report only
    python benchmarks/ingest_throughput.py --check            # the same, exit 1 when a target is missed
    python benchmarks/ingest_throughput.py --messages 5000 --runs 1 --workers 1 --no-nodered   # a quick look
    python benchmarks/ingest_throughput.py --profile DIR      # also py-spy the 1-worker drain (DIR/*.txt)

One Mosquitto, one influxd and one redis-server (Debian's packages, free ports, temporary folders) and one
PostgreSQL database (the local server; `--db` for another) serve every contestant of a run, in turn:

(a) bare: a paho subscriber process that only `json.loads` each message (benchmarks/common/bare_subscriber.py);
(b) influxd: the points the pipeline builds for the same messages, encoded beforehand, POSTed by
    `--influx-threads` connections: influxd's own write rate, the physical limit of this machine;
(c) `benchfleet ingest` × 1, 2, 4: separate processes on one MQTT shared subscription
    (`BENCHFLEET_SHARE_GROUP`), twins in PostgreSQL, change events to Redis (`BENCHFLEET_REDIS`), each
    acknowledging a message only after its points are stored;
(d) Node-RED (npm `node-red` + `node-red-contrib-influxdb`, benchmarks/nodered/): mqtt-in → function
    (builds one point per sample, batches 1,000 or 50 ms) → influxdb batch, acknowledging on receipt.

Every MQTT contestant is measured the same way: started, subscribed (seen in Mosquitto's log), warmed
with 1,000 messages, then frozen with SIGSTOP while the N messages are published into its session,
then thawed with SIGCONT: the drain lasts from SIGCONT until the last message is done (for (a) its own
clock at the N-th message; for (c) and (d) influxd's count of stored samples, polled every 50 ms).
Startup and the publisher are therefore not what is measured. CPU seconds of every process (ours,
influxd, Mosquitto) over the drain come from /proc. Each contestant writes to a fresh influx database.

Targets (issue 9): 1 worker ≥ 0.5 of bare paho and faster than Node-RED; the workers together (the best
multi-worker figure) ≥ 0.8 of bare paho. The default only reports; `--check` exits 1 on a missed target.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import requests
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common.profile_summary import summarise  # noqa: E402
from nodered import launcher as nodered  # noqa: E402

from fleet.tsdb.line_protocol import encode_batch  # noqa: E402
from tests.payloads import dumps, telemetry  # noqa: E402
from tests.services import InfluxService, MosquittoService, PostgresDatabase, RedisService, free_port  # noqa: E402
from twins.codec import decode  # noqa: E402
from twins.messages import Telemetry  # noqa: E402
from twins.series import telemetry_points  # noqa: E402

WARMUP = 1000
POLL_S = 0.05
TIMEOUT_S = 600.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PY = sys.executable
BENCHFLEET = str(Path(PY).with_name("benchfleet"))
PY_SPY = str(Path(PY).with_name("py-spy"))  # pip install py-spy (only for --profile)
NODERED_MEASUREMENT, NODERED_FIELD = "telemetry", "seq"  # what benchmarks/nodered/flow.json writes
MUNICIPALITY = "Mostar"


class LoggingMosquitto(MosquittoService):
    """Mosquitto that also logs subscriptions, so the benchmark knows when a contestant is listening."""

    @property
    def sub_log(self) -> Path:
        """Mosquitto's own log file, subscriptions included."""
        return self.workdir / "subscriptions.log"

    def _write_config(self) -> list[str]:
        argv = super()._write_config()
        conf = self.workdir / "mosquitto.conf"
        # A log file is flushed line by line (stdout is buffered until exit).
        text = conf.read_text().replace("log_dest stdout", f"log_dest file {self.sub_log}")
        conf.write_text(text + "log_type subscribe\nlog_timestamp false\n")
        return argv


@dataclass
class Drain:
    """One contestant's drain of N messages."""

    name: str
    seconds: float
    messages: int
    cpu: dict[str, float] = field(default_factory=dict)
    stored: int | None = None

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds

    @property
    def own_cpu_us(self) -> float:
        """CPU µs per message of the contestant's own processes together (0 for the influxd reference)."""
        own = sum(v for k, v in self.cpu.items() if k.startswith(f"{self.name}["))
        return own / self.messages * 1e6


@dataclass
class Rig:
    """The services every contestant of a run shares, and where to count what they stored."""

    work: Path
    mosq: LoggingMosquitto
    influx: InfluxService
    db_url: str
    redis_url: str
    benches: list[str]
    measurement: str
    count_field: str
    redis_pid: int = 0
    share_seq: int = 0

    @property
    def pg_name(self) -> str:
        """The PostgreSQL database's name (empty for another kind of database)."""
        return self.db_url.rsplit("/", 1)[-1] if self.db_url.startswith("postgresql") else ""

    def fresh_influx_db(self, label: str) -> str:
        """A new, empty influx database for one contestant."""
        self.share_seq += 1
        name = f"{label}_{self.share_seq}"
        self.influx.query(f'CREATE DATABASE "{name}"', method="POST")
        return name


# --- payloads and the broker --------------------------------------------------------------------------


def payloads(n: int, benches: Sequence[str], base: datetime) -> list[tuple[str, bytes]]:
    """N telemetry messages round-robin over the benches, 1 ms apart from ``base``."""
    out = []
    for i in range(n):
        bench = benches[i % len(benches)]
        ts = (base + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        out.append((f"benches/{bench}/telemetry", dumps(telemetry(bench, seq=i, ts=ts))))
    return out


def publish(port: int, messages: Sequence[tuple[str, bytes]]) -> float:
    """Publish at QoS 1 and wait for every PUBACK; returns the publish rate (msg/s)."""
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}", clean_session=True)
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    started = time.perf_counter()
    infos = [pub.publish(topic, body, qos=1) for topic, body in messages]
    for info in infos:
        info.wait_for_publish(120)
    elapsed = time.perf_counter() - started
    pub.disconnect()
    pub.loop_stop()
    return len(messages) / elapsed


def forget_sessions(port: int, client_ids: Sequence[str]) -> None:
    """Delete persistent sessions: a stopped contestant's session would keep taking its share of messages."""
    for cid in client_ids:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=True)
        c.connect("127.0.0.1", port)
        c.loop_start()
        c.disconnect()
        c.loop_stop()


def wait_subscribed(
    mosq: LoggingMosquitto, prefixes: Sequence[str], procs: Sequence[subprocess.Popen[bytes]]
) -> list[str]:
    """Wait until Mosquitto logged a telemetry subscription for every client id prefix; the full ids.

    A prefix matches the id itself or the id with a ``-suffix`` (`benchfleet ingest` appends its role and
    worker slot to ``BENCHFLEET_INGEST_CLIENT_ID``).
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found: dict[str, str] = {}
        for line in mosq.sub_log.read_text(errors="replace").splitlines():
            cid = line.split(" ", 1)[0]
            for prefix in prefixes:
                if (cid == prefix or cid.startswith(prefix + "-")) and "telemetry" in line:
                    found[prefix] = cid
        if len(found) == len(prefixes):
            return [found[p] for p in prefixes]
        dead = [p.args for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"contestant exited before subscribing: {dead}")
        time.sleep(0.1)
    raise RuntimeError(f"not subscribed within 120 s: {set(prefixes)}")


# --- measuring ------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each labelled process now."""
    return {label: cpu_seconds(pid) for label, pid in pids.items()}


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving ``database`` (their title names it), by pid."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()
            if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                found[int(proc.name)] = cpu_seconds(int(proc.name))
        except OSError:  # gone meanwhile
            continue
    return found


def postgres_cpu(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the backends used between two looks (a backend that appeared counts from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def wait_count(
    rig: Rig, db: str, measurement: str, fld: str, target: int, procs: Sequence[subprocess.Popen[bytes]]
) -> float:
    """Poll influxd until ``target`` values are stored; returns the monotonic time it saw them."""
    started = time.monotonic()
    while True:
        got = rig.influx.count(measurement, fld, db=db)
        now = time.monotonic()
        if got >= target:
            return now
        if now - started > TIMEOUT_S or any(p.poll() is not None for p in procs):
            raise RuntimeError(f"stored {got}/{target} in {db} (contestants alive: {[p.poll() for p in procs]})")
        # Every count costs influxd a scan: poll at 1 % of the time so far (50 ms at least, 0.5 s at most).
        time.sleep(min(0.5, max(POLL_S, (now - started) / 100)))


def stop_all(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (SIGCONT first, a frozen process cannot exit), then wait; SIGKILL after 30 s."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def frozen_drain(
    rig: Rig,
    name: str,
    procs: list[subprocess.Popen[bytes]],
    client_ids: list[str],
    base: datetime,
    n: int,
    done: Callable[[int], float],
    warm: Callable[[int], float] | None,
    profile: Path | None = None,
) -> Drain:
    """The common method: subscribed, warmed, frozen, N published, thawed, drained; always cleaned up."""
    spy: subprocess.Popen[bytes] | None = None
    try:
        client_ids = wait_subscribed(rig.mosq, client_ids, procs)
        if warm is not None:
            publish(rig.mosq.port, payloads(WARMUP, rig.benches, base - timedelta(hours=1)))
            warm(WARMUP)
        for p in procs:
            p.send_signal(signal.SIGSTOP)
        publish(rig.mosq.port, payloads(n, rig.benches, base))
        pids = {f"{name}[{i}]": p.pid for i, p in enumerate(procs)}
        pids |= {"influxd": rig.influx.pid or 0, "mosquitto": rig.mosq.pid or 0, "redis": rig.redis_pid}
        before = cpu_snapshot(pids)
        pg_before = postgres_backends(rig.pg_name) if rig.pg_name else {}
        started = time.monotonic()
        for p in procs:
            p.send_signal(signal.SIGCONT)
        if profile is not None:
            spy = subprocess.Popen(
                [PY_SPY, "record", "--pid", str(procs[0].pid), "--format", "raw", "--rate", "250", "--gil",
                 "--output", str(profile / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        ended = done((WARMUP if warm is not None else 0) + n)
        after = cpu_snapshot(pids)
        cpu = {k: after[k] - before[k] for k in pids}
        if rig.pg_name:
            cpu["postgres"] = postgres_cpu(pg_before, postgres_backends(rig.pg_name))
        return Drain(name, ended - started, n, cpu)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        stop_all(procs)
        forget_sessions(rig.mosq.port, client_ids)


# --- the contestants -------------------------------------------------------------------------------


def bare_drain(rig: Rig, base: datetime, n: int) -> Drain:
    """(a) A paho subscriber process with ``json.loads``."""
    cid = f"bare-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [PY, str(ROOT / "benchmarks" / "common" / "bare_subscriber.py"), str(rig.mosq.port), cid,
         "benches/+/telemetry", str(n)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def done(_target: int) -> float:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("bare subscriber exited before the last message")
        return float(line)

    return frozen_drain(rig, "bare", [proc], [cid], base, n, done, warm=None)


def influx_drain(rig: Rig, base: datetime, n: int, threads: int, batch: int) -> Drain:
    """(b) influxd alone: the pipeline's points for the same messages, encoded first, then POSTed."""
    db = rig.fresh_influx_db("limit")
    messages = payloads(n, rig.benches, base)
    samples = [decode(topic, body).message for topic, body in messages]
    bodies = [
        encode_batch([p for s in samples[i : i + batch] for p in telemetry_points(s, MUNICIPALITY)])  # type: ignore[arg-type]
        for i in range(0, n, batch)
    ]
    queue = list(reversed(bodies))
    lock = threading.Lock()
    url = f"{rig.influx.http_url}/write"

    def post_all() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                session.post(url, params={"db": db, "precision": "ms"}, data=body, timeout=60).raise_for_status()

    pids = {"influxd": rig.influx.pid or 0}
    before = cpu_snapshot(pids)
    started = time.monotonic()
    workers = [threading.Thread(target=post_all) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.monotonic() - started
    after = cpu_snapshot(pids)
    stored = rig.influx.count(rig.measurement, rig.count_field, db=db)
    return Drain(f"influxd ({threads} conn)", elapsed, n, {k: after[k] - before[k] for k in pids}, stored)


def ingest_drain(rig: Rig, base: datetime, n: int, workers: int, profile: Path | None) -> Drain:
    """(c) ``benchfleet ingest`` × ``workers`` on one shared subscription."""
    db = rig.fresh_influx_db(f"ingest{workers}")
    group = f"g{uuid.uuid4().hex[:8]}"
    cids = [f"ingest-{group}-w{i}" for i in range(workers)]
    procs = []
    for i, cid in enumerate(cids):
        env = {
            **os.environ,
            "BENCHFLEET_MQTT": rig.mosq.url,
            "BENCHFLEET_TSDB": f"influxdb://127.0.0.1:{rig.influx.port}/{db}",
            "BENCHFLEET_DB": rig.db_url,
            "BENCHFLEET_DATA_DIR": str(rig.work / cid),
            "BENCHFLEET_SHARE_GROUP": group,
            "BENCHFLEET_INGEST_CLIENT_ID": cid,
            "BENCHFLEET_WORKER": str(i),
            "BENCHFLEET_LOG_LEVEL": "WARNING",
        }
        env.pop("BENCHFLEET_REDIS", None)
        if rig.redis_url:
            env["BENCHFLEET_REDIS"] = rig.redis_url  # change events to the dashboards, as in production
        log = (rig.work / f"{cid}.log").open("ab")
        procs.append(subprocess.Popen([BENCHFLEET, "ingest"], env=env, stdout=log, stderr=subprocess.STDOUT))
        log.close()

    def count(target: int) -> float:
        return wait_count(rig, db, rig.measurement, rig.count_field, target, procs)

    name = f"ingest-{workers}w"
    drain = frozen_drain(rig, name, procs, cids, base, n, count, warm=count, profile=profile)
    drain.stored = rig.influx.count(rig.measurement, rig.count_field, db=db) - WARMUP
    return drain


def nodered_drain(rig: Rig, base: datetime, n: int) -> Drain:
    """(d) The Node-RED flow of benchmarks/nodered on the same broker and influxd."""
    db = rig.fresh_influx_db("nodered")
    cid = f"nodered-{uuid.uuid4().hex[:8]}"
    proc = nodered.start(
        rig.work / cid,
        mqtt_port=rig.mosq.port,
        influx_port=rig.influx.port,
        database=db,
        client_id=cid,
        topic="benches/+/telemetry",
        http_port=free_port(),
    )

    def count(target: int) -> float:
        return wait_count(rig, db, NODERED_MEASUREMENT, NODERED_FIELD, target, [proc])

    drain = frozen_drain(rig, "node-red", [proc], [cid], base, n, count, warm=count)
    drain.stored = rig.influx.count(NODERED_MEASUREMENT, NODERED_FIELD, db=db) - WARMUP
    return drain


# --- setup, report, targets --------------------------------------------------------------------------


def prepare_database(work: Path, db_url: str, benches: Sequence[str]) -> None:
    """Schema (``benchfleet migrate`` where it exists) and the registry of the benchmark's benches."""
    env = {**os.environ, "BENCHFLEET_DB": db_url, "BENCHFLEET_DATA_DIR": str(work / "cli")}
    has_migrate = "migrate" in subprocess.run([BENCHFLEET, "--help"], capture_output=True, text=True).stdout
    if has_migrate:
        subprocess.run([BENCHFLEET, "migrate"], env=env, check=True, capture_output=True)
    path = work / "benches.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["bench_id", "name", "municipality", "entity", "canton", "lat", "lon", "altitude_m", "installed"])
        for i, b in enumerate(benches):
            w.writerow([b, b, MUNICIPALITY, "FBiH", "Herzegovina-Neretva", 43.3 + i * 1e-4, 17.8, 60, "2023-11"])
    subprocess.run([BENCHFLEET, "benches", "import", str(path)], env=env, check=True, capture_output=True)


def count_target() -> tuple[str, str]:
    """Measurement and field that hold one value per telemetry sample, as the pipeline writes them."""
    sample = Telemetry.model_validate_json(dumps(telemetry("bench-00000")))
    first = telemetry_points(sample, MUNICIPALITY)[0]
    return first.measurement, "seq" if "seq" in first.fields else sorted(first.fields)[0]


def cpu_note(d: Drain) -> str:
    """CPU µs per message of every process in the drain."""
    return ", ".join(f"{k} {v / d.messages * 1e6:.0f}" for k, v in d.cpu.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--benches", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--influx-threads", type=int, default=2, help="connections POSTing in the influxd reference")
    parser.add_argument("--batch", type=int, default=1000, help="messages per write in the influxd reference")
    parser.add_argument("--no-nodered", action="store_true", help="leave out the Node-RED flow")
    parser.add_argument("--no-redis", action="store_true", help="workers without BENCHFLEET_REDIS (no change events)")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: a temporary PostgreSQL database)")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the 1-worker drain into this folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs of every process)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed (default: report only)")
    args = parser.parse_args()

    benches = [f"bench-{i:05d}" for i in range(args.benches)]
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    if args.profile:
        if not Path(PY_SPY).exists():
            parser.error(f"--profile needs py-spy next to {PY}: {Path(PY).with_name('pip')} install py-spy")
        args.profile.mkdir(parents=True, exist_ok=True)
    if not args.no_nodered:
        nodered.ensure_installed()
    pg = None if args.db else PostgresDatabase()
    if pg is not None:
        pg.create()
    db_url = args.db or (pg.url if pg else "")
    mosq = LoggingMosquitto(work / "mosquitto")
    influx = InfluxService(work / "influxd")
    redis = RedisService(work / "redis")
    mosq.start()
    influx.start()
    redis.start()
    measurement, fld = count_target()
    redis_url = "" if args.no_redis else redis.url
    rig = Rig(work, mosq, influx, db_url, redis_url, benches, measurement, fld, redis.pid or 0)
    results: dict[str, list[Drain]] = {}
    failed: list[str] = []
    day = 0

    def next_base() -> datetime:
        nonlocal day
        day += 1  # every contestant its own day: twins see newer samples each time, as in production
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)

    try:
        prepare_database(work, db_url, benches)
        for run in range(1, args.runs + 1):
            contestants: list[tuple[str, Callable[[], Drain]]] = [
                ("bare", lambda: bare_drain(rig, next_base(), args.messages)),
                ("influxd", lambda: influx_drain(rig, next_base(), args.messages, args.influx_threads, args.batch)),
            ]
            for w in args.workers:
                prof = args.profile if (args.profile and w == 1 and run == 1) else None
                contestants.append(
                    (f"ingest-{w}w", lambda w=w, prof=prof: ingest_drain(rig, next_base(), args.messages, w, prof))
                )
            if not args.no_nodered:
                contestants.append(("node-red", lambda: nodered_drain(rig, next_base(), args.messages)))
            drains = []
            for label, measure in contestants:
                try:
                    drains.append(measure())
                except Exception as err:  # one broken contestant must not cost the others' figures
                    print(f"run {run}: {label:18s} FAILED: {type(err).__name__}: {err}", flush=True)
                    failed.append(label)
            if not drains or drains[0].name != "bare":
                raise SystemExit("the bare reference failed: nothing to compare with")
            bare = drains[0].rate
            for d in drains:
                stored = "" if d.stored is None else f", stored {d.stored}/{d.messages}"
                print(
                    f"run {run}: {d.name:18s} {d.rate:9,.0f} msg/s  ratio {d.rate / bare:4.2f}  "
                    f"({d.seconds:.2f} s{stored}; CPU µs/msg: {cpu_note(d)})",
                    flush=True,
                )
                results.setdefault(d.name, []).append(d)
    finally:
        mosq.stop()
        influx.stop()
        redis.stop()
        if pg is not None:
            pg.drop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    if args.profile:
        for path in sorted(args.profile.glob("*.txt")):
            print(f"\nwhere {path.stem}'s CPU went (py-spy, samples holding the GIL, {path}):")
            for name, share in summarise(path):
                print(f"  {share:6.1%}  {name}")
    return report(results, args, failed)


def report(results: dict[str, list[Drain]], args: argparse.Namespace, failed: Sequence[str] = ()) -> int:
    """Medians, ratios to bare paho and the targets; the exit code (non-zero only with --check)."""
    med = {name: statistics.median(d.rate for d in drains) for name, drains in results.items()}
    bare = med["bare"]
    print(f"\nmedian over {args.runs} run(s) of {args.messages:,} messages from {args.benches:,} benches:")
    print("  (CPU µs per message, medians: the contestant's own processes together, influxd, PostgreSQL backends)")
    for name, rate in med.items():
        lost = [d.messages - d.stored for d in results[name] if d.stored is not None]
        note = f"  lost {max(lost)}" if lost else ""
        own = statistics.median(d.own_cpu_us for d in results[name])
        influx = statistics.median(d.cpu.get("influxd", 0.0) / d.messages * 1e6 for d in results[name])
        pg = statistics.median(d.cpu.get("postgres", 0.0) / d.messages * 1e6 for d in results[name])
        print(
            f"  {name:18s} {rate:9,.0f} msg/s  ratio {rate / bare:4.2f}  "
            f"CPU {own:4.0f} + influxd {influx:3.0f} + postgres {pg:3.0f}{note}"
        )
    checks: list[tuple[str, bool]] = []
    if "ingest-1w" in med:
        checks.append(("1 worker >= 0.5 of bare paho", med["ingest-1w"] >= 0.5 * bare))
        if "node-red" in med:
            checks.append(("1 worker faster than Node-RED", med["ingest-1w"] > med["node-red"]))
    multi = {n: r for n, r in med.items() if n.startswith("ingest-") and n != "ingest-1w"}
    if multi:
        best = max(multi, key=multi.__getitem__)
        checks.append((f"workers together ({best}) >= 0.8 of bare paho", multi[best] >= 0.8 * bare))
    lost_any = any(d.stored is not None and d.stored != d.messages for ds in results.values() for d in ds)
    checks.append(("every message stored exactly once", not lost_any))
    checks.extend((f"{label} ran (failed {failed.count(label)}x)", False) for label in sorted(set(failed)))
    for label, ok in checks:
        print(f"  {'ok    ' if ok else 'MISSED'} {label}")
    print(json.dumps({"median_msg_per_s": {k: round(v) for k, v in med.items()}}))
    missed = [label for label, ok in checks if not ok]
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
