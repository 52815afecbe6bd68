"""Live latency: from a telemetry publish to an open bench page in headless Chromium showing the new value.

    python benchmarks/live_latency.py --samples 60 --load-benches 1000 --load-period 5

Both measurements run in one go on one Mosquitto, while `--load-benches` other benches publish a sample
every `--load-period` seconds (200 messages/s by default), from a thread of this script:

(a) bare: a minimal process (paho subscriber on the one bench's topic + Flask-SocketIO, threading mode,
    websocket) that emits the received battery value to a page which writes it into the DOM: the floor of
    broker → Python → Socket.IO → browser on this machine.
(b) benchfleet: a real `benchfleet serve` process (Mosquitto, PostgreSQL, influxd from Debian's packages,
    temporary folders and database), the bench page of one bench open in Chromium, logged in.

The time of arrival is taken in the page by a MutationObserver on the value's element
(performance.timeOrigin + performance.now(), the same system clock as the publisher's time.time()),
so Playwright's polling does not add to it. Samples are 0.8-1.6 s apart (random), longer than the
dashboard's per-bench throttle window, as a bench that reports every few seconds would be.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import requests
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboards.served import chromium, log_in  # noqa: E402
from tests.payloads import dumps, telemetry  # noqa: E402
from tests.services import InfluxService, MosquittoService, PostgresDatabase, free_port, port_open  # noqa: E402
from twins.metrics import BATTERY_SOC  # noqa: E402

TARGET = "mostar-01"
PASSWORD = "a-long-benchmark-password"
OBSERVE = """([sel, bench]) => {
  window.__seen = [];
  window.__arrived = {};
  const el = document.querySelector(sel);
  new MutationObserver(() => window.__seen.push([el.textContent, performance.timeOrigin + performance.now()]))
    .observe(el, {childList: true, characterData: true, subtree: true});
  // A second socket in the same page: when the message reaches the page's JavaScript at all.
  const s = io({transports: ["websocket"]});
  s.on("twin", (m) => { for (const t of m.twins) {
    const soc = t.soc_pct ?? t["battery.soc_pct"];  // the bare page's name, the twin summary's metric key
    const key = t.bench_id === bench && soc != null ? soc.toFixed(1) : null;
    if (key !== null && !(key in window.__arrived)) window.__arrived[key] = performance.timeOrigin + performance.now();
  } });
}"""


def _now_ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _client(port: int, name: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}")
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


class Load:
    """N benches, each publishing a telemetry sample every ``period_s``, evenly spread (one thread)."""

    def __init__(self, port: int, benches: list[str], period_s: float) -> None:
        self._client = _client(port, "load")
        self._benches = benches
        self._gap = period_s / len(benches)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.sent = 0

    def _run(self) -> None:
        seq = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            bench = self._benches[seq % len(self._benches)]
            body = dumps(telemetry(bench, seq=seq, ts=_now_ts()))
            self._client.publish(f"benches/{bench}/telemetry", body, qos=1)
            self.sent += 1
            seq += 1
            next_at += self._gap
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._client.disconnect()
        self._client.loop_stop()


class SocketProbe:
    """A Socket.IO client (python, long-polling) on the serve process: when each TARGET twin event arrives."""

    def __init__(self, base: str, token: str) -> None:
        import socketio

        self.arrived: dict[float, float] = {}  # soc → arrival (epoch ms)
        self._client = socketio.Client(reconnection=False)
        self._client.on("twin", self._on_twin)
        self._client.connect(base, auth={"token": token}, transports=["polling"], wait_timeout=10)

    def _on_twin(self, msg: dict[str, Any]) -> None:
        now = time.time() * 1000
        for t in msg["twins"]:
            soc = t.get(BATTERY_SOC.key)
            if t["bench_id"] == TARGET and soc is not None:
                self.arrived.setdefault(round(soc, 1), now)

    def close(self) -> None:
        self._client.disconnect()


def measure(
    page: Any, port: int, samples: int, selector: str, label: str, probe: SocketProbe | None = None
) -> tuple[list[float], list[float]]:
    """Publish ``samples`` values for TARGET; each one's publish → DOM latency (and → probe) in ms."""
    page.evaluate(OBSERVE, [selector, TARGET])
    at_probe: list[float] = []
    in_page: list[float] = []
    pub = _client(port, "probe")
    latencies: list[float] = []
    seq = 10_000_000  # above anything the load sent for the target bench
    try:
        for i in range(samples):
            value = 10.0 + i + 0.5  # unique per sample; rendered "10.5 %" in the en locale
            text = f"{value:.1f}"
            seq += 1
            body = dumps(telemetry(TARGET, seq=seq, ts=_now_ts(), battery=_battery(value)))
            sent_ms = time.time() * 1000
            pub.publish(f"benches/{TARGET}/telemetry", body, qos=1)
            deadline = time.monotonic() + 10
            seen_ms = None
            while seen_ms is None and time.monotonic() < deadline:
                for shown, at in page.evaluate("() => window.__seen.splice(0)"):
                    if shown.startswith(text):
                        seen_ms = at
                if seen_ms is None:
                    time.sleep(0.01)
            if seen_ms is None:
                print(f"{label}: sample {i} not shown within 10 s", flush=True)
                continue
            latencies.append(seen_ms - sent_ms)
            if probe is not None and value in probe.arrived:
                at_probe.append(probe.arrived[value] - sent_ms)
            arrived = page.evaluate("(k) => window.__arrived[k]", text)
            if arrived is not None:
                in_page.append(arrived - sent_ms)
            time.sleep(random.uniform(0.8, 1.6))
    finally:
        pub.disconnect()
        pub.loop_stop()
    if in_page:
        print(_summary(f"{label} page", in_page) + "   (publish → message in the page's JavaScript)", flush=True)
    return latencies, at_probe


def _metric(base: str, name: str) -> float:
    for line in requests.get(f"{base}/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def _battery(soc: float) -> dict[str, float]:
    return {"soc_pct": soc, "voltage_v": 13.1, "current_a": -1.2, "temp_c": 21.5}


# --- (a) the bare reference --------------------------------------------------------------------------------

BARE_PAGE = """<!doctype html><html><body><dd id="now-soc">-</dd>
<script src="/vendor/socket.io.min.js"></script>
<script>const s = io({transports: ["websocket"]});
s.on("connect", () => document.body.dataset.live = "true");
s.on("soc", (v) => { document.getElementById("now-soc").textContent = v.toFixed(1) + " %"; });</script>
</body></html>"""


def bare_server(http_port: int, mqtt_port: int) -> None:
    """The bare reference process: paho → json.loads → Socket.IO emit."""
    from flask import Flask, send_from_directory
    from flask_socketio import SocketIO

    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading")
    app.add_url_rule("/", "page", lambda: BARE_PAGE)
    vendor = ROOT / "dashboards" / "static" / "vendor"
    app.add_url_rule("/vendor/<path:name>", "vendor", lambda name: send_from_directory(vendor, name))

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        socketio.emit("soc", json.loads(msg.payload)["battery"]["soc_pct"])

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bare-{uuid.uuid4().hex[:6]}")
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(f"benches/{TARGET}/telemetry", qos=1)
    client.connect("127.0.0.1", mqtt_port)
    client.loop_start()
    socketio.run(app, host="127.0.0.1", port=http_port, allow_unsafe_werkzeug=True, log_output=False)


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path, ready: Callable[[], bool]) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[:3]} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False


def _benchfleet(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    argv = [sys.executable, "-m", "fleet.cli", *args]
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchfleet {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout


def _summary(label: str, ms: list[float]) -> str:
    if len(ms) < 2:
        return f"{label}: {len(ms)} samples"
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return (
        f"{label:<11} n={len(ms):3d}  p50 {statistics.median(ms):6.0f} ms  p90 {q[89]:6.0f} ms  "
        f"p99 {q[98]:6.0f} ms  max {max(ms):6.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--load-benches", type=int, default=1000)
    parser.add_argument("--load-period", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="Seconds of load before measuring.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="live-latency-"))
    load_benches = [f"load-{i:05d}" for i in range(args.load_benches)]
    mosq = MosquittoService(work / "mosquitto")
    influx = InfluxService(work / "influxd")
    pg = PostgresDatabase()
    mosq.start()
    influx.start()
    pg.create()
    try:
        csv = work / "benches.csv"
        rows = [(ROOT / "fleet" / "seed" / "benches.csv").read_text().rstrip("\n")]
        rows += [f"{b},{b},Load,FBiH,,44.0,18.0,500,2026-12" for b in load_benches]
        csv.write_text("\n".join(rows) + "\n")
        http = free_port()
        env = {
            **os.environ,
            "BENCHFLEET_MQTT": mosq.url,
            "BENCHFLEET_TSDB": influx.url,
            "BENCHFLEET_DB": pg.url,
            "BENCHFLEET_HTTP": f"127.0.0.1:{http}",
            "BENCHFLEET_DATA_DIR": str(work / "data"),
            "BENCHFLEET_SECRET_KEY": secrets.token_urlsafe(32),
            "BENCHFLEET_LOG_LEVEL": "WARNING",
        }
        _benchfleet(env, "benches", "import", str(csv))
        _benchfleet(env, "user", "add", "ada", "--role", "admin", "--locale", "en", stdin=PASSWORD + "\n")
        token = _benchfleet(env, "token", "create", "ada").strip().splitlines()[-1]
        bare_http = free_port()
        base = f"http://127.0.0.1:{http}"
        bare_base = f"http://127.0.0.1:{bare_http}"
        rate = args.load_benches / args.load_period
        print(f"load: {args.load_benches} benches every {args.load_period} s ({rate:.0f} msg/s)", flush=True)
        with (
            _process([sys.executable, "-m", "fleet.cli", "serve"], env, work / "serve.log", lambda: _healthy(base)),
            _process(
                [sys.executable, __file__, "--bare-server", str(bare_http), str(mosq.port)],
                env,
                work / "bare.log",
                lambda: port_open("127.0.0.1", bare_http),
            ),
            Load(mosq.port, load_benches, args.load_period) as load,
            chromium() as browser,
        ):
            time.sleep(args.warmup)
            context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB")
            page = context.new_page()
            page.goto(bare_base)
            page.wait_for_selector("body[data-live=true]")
            bare, _ = measure(page, mosq.port, args.samples, "#now-soc", "bare")
            log_in(page, base, "ada", PASSWORD)
            page.goto(f"{base}/benches/{TARGET}")
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_selector("#live-status[data-state=live]")
            probe = SocketProbe(base, token)
            batch_sum, batch_count = "benchfleet_ingest_batch_seconds_sum", "benchfleet_ingest_batch_seconds_count"
            batches = (_metric(base, batch_sum), _metric(base, batch_count))
            full, emitted = measure(page, mosq.port, args.samples, "#now-soc", "benchfleet", probe)
            probe.close()
            spent = _metric(base, batch_sum) - batches[0]
            count = _metric(base, batch_count) - batches[1]
            lag = _metric(base, "benchfleet_ingest_lag_seconds")
            print(f"load messages sent: {load.sent}; ingestion lag at the end {lag:.2f} s", flush=True)
            print(f"ingestion batches during the run: {count:.0f}, mean {1000 * spent / max(count, 1):.1f} ms each")
        print(_summary("bare", bare))
        print(_summary("benchfleet", full))
        print(_summary("socket.io", emitted) + "   (publish → twin event at a python client of serve)")
        print("raw ms (benchfleet):", " ".join(f"{v:.0f}" for v in full))
    finally:
        mosq.stop()
        influx.stop()
        pg.drop()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bare-server":
        bare_server(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
