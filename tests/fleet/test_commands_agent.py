"""Commands from the fleet to a real bench agent (simulated hardware) through real Mosquitto, tracked in PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from fleet.ops.audit import AuditQuery
from fleet.ops.commands import CommandTimeouts
from fleet.service_api import EVERYTHING
from tests.firmware_agent.conftest import Harness
from tests.fleet.conftest import RuntimeFactory
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.clock import ManualClock

BENCH = "mostar-01"  # one of the default benches the runtime seeds; the broker is the test's own


def _api(rt: Any) -> tuple[Any, dict[str, str]]:
    users = UserStore(rt.engine)
    users.add_user("crew", "a-long-password", "maintenance")
    app = create_app(DashboardConfig(secret_key="k" * 32, secure_cookies=False), rt.service, users)
    return app.test_client(), {"Authorization": f"Bearer {users.create_token('crew')}"}


def test_ping_to_a_live_agent_succeeds(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, tmp_path: Path
) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    client, auth = _api(rt)
    agent = Harness(fresh_mosquitto.url, BENCH, tmp_path / "agent", ManualClock(rt.clock.now() - timedelta(minutes=1)))
    (tmp_path / "agent").mkdir(exist_ok=True)
    try:
        agent.start()
        wait_until(rt.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
        sent = client.post(f"/api/benches/{BENCH}/commands", json={"name": "ping", "args": {}}, headers=auth)
        assert sent.status_code == 202, sent.get_json()
        assert sent.get_json()["status"] == "sent"
        command_id = sent.get_json()["id"]

        def finished() -> dict[str, Any] | None:
            doc = client.get(f"/api/commands/{command_id}", headers=auth).get_json()
            return doc if doc["status"] != "sent" else None

        doc = agent.pump_until(finished, timeout=20, message="ping answered and recorded")
        assert doc["status"] == "succeeded"
        assert doc["bench_id"] == BENCH
        assert doc["name"] == "ping"
        assert doc["result"]["firmware"] == "1.0.0"
        assert doc["finished_at"] is not None
        assert doc["finished_at"] >= doc["sent_at"]
        actions = [e.action for e in rt.service.audit_entries(AuditQuery(bench_id=BENCH), EVERYTHING)]
        assert actions[:2] == ["command.result", "command.send"]
    finally:
        agent.close()


def test_command_to_a_killed_agent_times_out(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, tmp_path: Path
) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    client, auth = _api(rt)
    (tmp_path / "agent").mkdir(exist_ok=True)
    agent = Harness(fresh_mosquitto.url, BENCH, tmp_path / "agent", ManualClock(rt.clock.now()))
    agent.start()
    agent.close()  # killed: nothing answers any more
    wait_until(rt.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
    sent = client.post(f"/api/benches/{BENCH}/commands", json={"name": "ping"}, headers=auth)
    assert sent.status_code == 202
    command_id = sent.get_json()["id"]

    later = ManualClock(rt.clock.now())
    timeouts = CommandTimeouts(rt.engine, later)
    assert timeouts.run() == 0  # not overdue yet
    assert client.get(f"/api/commands/{command_id}", headers=auth).get_json()["status"] == "sent"
    later.advance(timedelta(minutes=2))
    assert timeouts.run() == 1
    doc = client.get(f"/api/commands/{command_id}", headers=auth).get_json()
    assert doc["status"] == "timed_out"
    assert doc["result"] is None
    assert doc["finished_at"] is not None
    assert timeouts.run() == 0  # once only
    entry = rt.service.audit_entries(AuditQuery(bench_id=BENCH), EVERYTHING)[0]
    assert (entry.actor, entry.action, entry.before, entry.after) == (
        "system",
        "command.timeout",
        {"status": "sent"},
        {"status": "timed_out"},
    )
