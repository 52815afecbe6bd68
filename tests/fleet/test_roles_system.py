"""The process roles together, as real processes on real Mosquitto, PostgreSQL, influxd, Redis and Chromium.

One `benchfleet serve`, one `benchfleet dashboard` and three `benchfleet ingest` workers on one MQTT shared
subscription. 20,000 telemetry messages stream over the 12 benches while 50 If-Match PATCHes race through
the dashboard's API and one worker is killed with SIGKILL and started again with the same slot. Afterwards,
for every bench: the twin holds the newest sample, InfluxDB holds every sample exactly once, the desired
versions have no duplicate and no gap, the retained `desired` topic equals the twin's desired config, and
a browser on the dashboard process (which ingests nothing) saw the changes live.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, text

from fleet.registry import default_fleet
from tests.dashboards.served import chromium, log_in
from tests.payloads import dumps, telemetry
from tests.services import InfluxService, MosquittoService, PostgresDatabase, RedisService, free_port
from tests.waiting import wait_until
from twins.series import SERIES_FIELDS

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
BENCHES = [r.bench_id for r in default_fleet()]
MESSAGES = 20_000
PATCHES = 50
PATCH_BENCHES = BENCHES[:5]
PASSWORD = "a-long-system-test-password"
WATCHED = "mostar-01"
CSV_HEADER = "bench_id,name,municipality,entity,canton,lat,lon,altitude_m,installed\n"


@dataclass
class Proc:
    """One `benchfleet` process with its log."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)

    def tail(self) -> str:
        return f"--- {self.name} ---\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])


@dataclass
class Stack:
    """The services, the processes and what a test needs to talk to them."""

    mosquitto: MosquittoService
    influx: InfluxService
    pg: PostgresDatabase
    env: dict[str, str]
    serve_url: str
    dash_url: str
    token: str
    new_csv: Path
    procs: dict[str, Proc] = field(default_factory=dict)

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs.values())


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args], env=env, input=stdin, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, f"benchfleet {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    mosquitto = MosquittoService(tmp_path / "mosquitto")
    influx = InfluxService(tmp_path / "influxd")
    redis_server = RedisService(tmp_path / "redis")
    pg = PostgresDatabase()
    for service in (mosquitto, influx, redis_server):
        service.start()
    pg.create()
    env = {
        **os.environ,
        "BENCHFLEET_MQTT": mosquitto.url,
        "BENCHFLEET_TSDB": influx.url,
        "BENCHFLEET_DB": pg.url,
        "BENCHFLEET_REDIS": redis_server.url,
        "BENCHFLEET_SHARE_GROUP": "ingest",
        "BENCHFLEET_SECRET_KEY": secrets.token_urlsafe(32),
        "BENCHFLEET_LOG_LEVEL": "WARNING",
    }
    env.pop("BENCHFLEET_CONFIG", None)
    _cli(env, "migrate")
    _cli(
        {**env, "BENCHFLEET_DATA_DIR": str(tmp_path / "cli")}, "benches", "import", str(ROOT / "fleet/seed/benches.csv")
    )
    _cli(env, "user", "add", "ada", "--role", "admin", "--locale", "en", stdin=PASSWORD + "\n")
    token = _cli(env, "token", "create", "ada").strip().splitlines()[-1]
    serve_port, dash_port = free_port(), free_port()
    stack = Stack(
        mosquitto,
        influx,
        pg,
        env,
        f"http://127.0.0.1:{serve_port}",
        f"http://127.0.0.1:{dash_port}",
        token,
        tmp_path / "new-benches.csv",
    )

    def proc(name: str, *args: str, http: int | None = None) -> Proc:
        # INFO for the workers: their log says whether a (re)connect found its persistent session.
        level = "INFO" if name.startswith("ingest") else "WARNING"
        penv = {**env, "BENCHFLEET_DATA_DIR": str(tmp_path / f"data-{name}"), "BENCHFLEET_LOG_LEVEL": level}
        if http is not None:
            penv["BENCHFLEET_HTTP"] = f"127.0.0.1:{http}"
        p = Proc(name, [sys.executable, "-m", "fleet.cli", *args], penv, tmp_path / f"{name}.log")
        stack.procs[name] = p
        return p

    proc("serve", "serve", http=serve_port).start()
    proc("dashboard", "dashboard", http=dash_port).start()
    for slot in range(3):
        proc(f"ingest-{slot}", "ingest", "--worker", str(slot)).start()
    try:
        wait_until(lambda: _healthy(stack.serve_url) and _healthy(stack.dash_url), timeout=60, message="web up")
        for p in stack.procs.values():
            assert p.alive(), stack.logs()
        yield stack
    finally:
        for p in stack.procs.values():
            p.stop()
        for service in (mosquitto, influx, redis_server):
            service.stop()
        pg.drop()


# --- what the test does ------------------------------------------------------------------------------------


def _samples(start: datetime) -> list[tuple[str, int, datetime, float]]:
    """(bench, seq, ts, soc) for every message: round robin over the benches, 1 ms apart."""
    out = []
    for i in range(MESSAGES):
        bench = BENCHES[i % len(BENCHES)]
        out.append((bench, i // len(BENCHES) + 1, start + timedelta(milliseconds=i), round(20 + (i % 700) / 10, 1)))
    return out


def _rfc(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _stream(stack: Stack, samples: list[tuple[str, int, datetime, float]]) -> None:
    """Publish every sample at QoS 1; kill -9 worker 1 at 35 % and start it again (same slot) at 60 %."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"system-bench-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(500)
    client.connect(stack.mosquitto.host, stack.mosquitto.port)
    client.loop_start()
    victim = stack.procs["ingest-1"]
    infos = []
    try:
        for i, (bench, seq, ts, soc) in enumerate(samples):
            doc = telemetry(bench, seq=seq, ts=_rfc(ts))
            doc["battery"]["soc_pct"] = soc
            infos.append(client.publish(f"benches/{bench}/telemetry", dumps(doc), qos=1))
            if i == int(MESSAGES * 0.35):
                victim.kill9()
            elif i == int(MESSAGES * 0.60):
                victim.start()
            if i % 500 == 0:  # keep the client's own queue short; the broker holds the rest
                infos[-1].wait_for_publish(30)
        for info in infos:
            info.wait_for_publish(60)
    finally:
        client.disconnect()
        client.loop_stop()


def _patch_race(stack: Stack) -> dict[str, list[int]]:
    """50 PATCHes over 5 benches from 10 threads, each retrying on 412 with the version it then reads."""
    auth = {"Authorization": f"Bearer {stack.token}"}
    conflicts = 0
    lock = threading.Lock()

    def one(i: int) -> tuple[str, int]:
        nonlocal conflicts
        bench = PATCH_BENCHES[i % len(PATCH_BENCHES)]
        with requests.Session() as http:
            for _ in range(200):
                current = http.get(f"{stack.dash_url}/api/benches/{bench}", headers=auth, timeout=10)
                assert current.status_code == 200, current.text
                version = current.json()["desired"]["version"]
                done = http.patch(
                    f"{stack.dash_url}/api/benches/{bench}/desired",
                    json={"wifi": {"max_clients": 10 + i}},
                    headers={**auth, "If-Match": str(version)},
                    timeout=10,
                )
                if done.status_code == 200:
                    return bench, int(done.json()["desired"]["version"])
                assert done.status_code == 412, done.text
                with lock:
                    conflicts += 1
        raise AssertionError(f"PATCH {i} never won")

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(one, range(PATCHES)))
    versions: dict[str, list[int]] = {b: [] for b in PATCH_BENCHES}
    for bench, version in results:
        versions[bench].append(version)
    assert conflicts > 0  # they did race
    return versions


def _retained_desired(stack: Stack) -> dict[str, dict[str, Any]]:
    got: dict[str, dict[str, Any]] = {}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"system-check-{uuid.uuid4().hex[:6]}")
    client.on_message = lambda _c, _u, m: got.__setitem__(m.topic.split("/")[1], json.loads(m.payload))
    client.on_connect = lambda c, *_: c.subscribe("benches/+/desired", qos=1)
    client.connect(stack.mosquitto.host, stack.mosquitto.port)
    client.loop_start()
    try:
        wait_until(lambda: set(PATCH_BENCHES) <= set(got), timeout=10, message="retained desired documents")
    finally:
        client.disconnect()
        client.loop_stop()
    return got


RECORDER = """() => {
  window.__twins = [];
  const s = io({transports: ["websocket"]});
  s.on("twin", (m) => { for (const t of m.twins) window.__twins.push([t.bench_id, t.ts, t.desired_version]); });
}"""


def test_roles_together_lose_nothing_and_show_everything_live(stack: Stack) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    samples = _samples(start)
    newest = {bench: (seq, ts, soc) for bench, seq, ts, soc in samples}  # the last one per bench wins
    auth = {"Authorization": f"Bearer {stack.token}"}

    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB").new_page()
        log_in(page, stack.dash_url, "ada", PASSWORD)
        page.goto(f"{stack.dash_url}/benches/{WATCHED}")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#live-status[data-state=live]")
        page.evaluate(RECORDER)

        streamer = threading.Thread(target=_stream, args=(stack, samples))
        streamer.start()
        versions = _patch_race(stack)
        streamer.join(timeout=300)
        assert not streamer.is_alive()
        assert all(p.alive() for p in stack.procs.values()), stack.logs()
        # The restarted worker came back with its slot's client id and found its session at the broker.
        wait_until(
            lambda: "(session present: True)" in stack.procs["ingest-1"].log.read_text(),
            timeout=60,
            message="the restarted worker resumed its session",
        )

        # 1. every twin holds its newest sample (read through the dashboard process, which ingests nothing)
        def twins_caught_up() -> bool:
            for bench, (seq, _ts, _soc) in newest.items():
                doc = requests.get(f"{stack.dash_url}/api/benches/{bench}", headers=auth, timeout=10).json()
                if not doc["telemetry"] or doc["telemetry"]["seq"] != seq:
                    return False
            return True

        try:
            wait_until(twins_caught_up, timeout=180, interval=1.0, message="every twin at its newest sample")
        except AssertionError:
            raise AssertionError(stack.logs()) from None
        for bench, (seq, ts, soc) in newest.items():
            doc = requests.get(f"{stack.dash_url}/api/benches/{bench}", headers=auth, timeout=10).json()
            assert doc["telemetry"]["seq"] == seq
            assert doc["telemetry"]["battery"]["soc_pct"] == soc
            assert datetime.fromisoformat(doc["telemetry"]["ts"]) == ts

        # 5. the browser on the dashboard process saw it live: the newest sample of every bench arrived as an
        # event, the open bench page shows the newest value, and the PATCHed versions came live too.
        want = {(bench, _rfc(ts)) for bench, (_seq, ts, _soc) in newest.items()}

        def browser_saw_all() -> bool:
            seen = {(b, t) for b, t, _v in page.evaluate("() => window.__twins")}
            return want <= seen

        try:
            wait_until(browser_saw_all, timeout=30, interval=0.5, message="newest samples in the browser")
        except AssertionError:
            last = {b: t for b, t, _v in page.evaluate("() => window.__twins")}
            missing = sorted((b, t, last.get(b)) for b, t in want if last.get(b) != t)
            raise AssertionError(f"browser did not end on the newest sample (bench, wanted, last): {missing}") from None
        events = page.evaluate("() => window.__twins")
        assert len(events) > len(BENCHES) * 5  # a stream of updates, not one reload at the end
        watched_soc = newest[WATCHED][2]
        page.wait_for_function(
            f"() => document.getElementById('now-soc').textContent.startsWith('{watched_soc:.1f}')", timeout=10_000
        )
        assert page.url.endswith(f"/benches/{WATCHED}")  # no reload
        last_version = {b: v for b, _t, v in events}
        for bench in PATCH_BENCHES:
            assert last_version[bench] == len(versions[bench])

        # A bench imported into the running system shows up without a restart: in the dashboard's list
        # and live in the browser.
        csv = stack.new_csv
        csv.write_text(CSV_HEADER + "konjic-01,Konjic,Konjic,FBiH,Herzegovina-Neretva,43.65,17.96,280,2026-12\n")
        _cli({**stack.env, "BENCHFLEET_DATA_DIR": str(csv.parent / "cli")}, "benches", "import", str(csv))

        def listed() -> bool:
            docs = requests.get(f"{stack.dash_url}/api/benches", headers=auth, timeout=10).json()
            rows = docs["benches"] if isinstance(docs, dict) else docs
            return any(row["bench_id"] == "konjic-01" for row in rows)

        wait_until(listed, timeout=20, message="the imported bench in the dashboard's list")
        # Only events reach the browser (a cache reload emits nothing): this one came through Redis.
        wait_until(
            lambda: any(b == "konjic-01" for b, _t, _v in page.evaluate("() => window.__twins")),
            timeout=10,
            message="the imported bench live in the browser",
        )

    # 2. InfluxDB holds every sample exactly once
    measurement, soc_field = SERIES_FIELDS["battery.soc_pct"]
    body = stack.influx.query(
        f'SELECT count("{soc_field}"), sum("{soc_field}") FROM "{measurement}" GROUP BY "bench_id"',
        db=stack.influx.database,
    )
    stored = {
        s["tags"]["bench_id"]: (s["values"][0][1], s["values"][0][2]) for s in body["results"][0].get("series", [])
    }
    for bench in BENCHES:
        mine = [soc for b, _seq, _ts, soc in samples if b == bench]
        assert stored[bench][0] == len(mine), bench
        assert stored[bench][1] == pytest.approx(sum(mine)), bench

    # 3. desired versions: no duplicate, no gap (the answers and the history table agree)
    engine = create_engine(stack.pg.url)
    try:
        with engine.connect() as conn:
            history = conn.execute(text("SELECT bench_id, version FROM desired_history ORDER BY 1, 2")).all()
    finally:
        engine.dispose()
    for bench in PATCH_BENCHES:
        n = len(versions[bench])
        assert sorted(versions[bench]) == list(range(1, n + 1)), bench
        assert [v for b, v in history if b == bench] == list(range(1, n + 1)), bench
    assert sum(len(v) for v in versions.values()) == PATCHES

    # 4. the retained desired topic equals the twin's desired config
    retained = _retained_desired(stack)
    for bench in PATCH_BENCHES:
        doc = requests.get(f"{stack.dash_url}/api/benches/{bench}", headers=auth, timeout=10).json()
        assert retained[bench]["version"] == doc["desired"]["version"] == len(versions[bench])
        assert retained[bench]["config"] == doc["desired"]["config"]
