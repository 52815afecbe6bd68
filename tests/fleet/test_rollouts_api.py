"""The rollout API (contract section 5) on a real runtime (PostgreSQL, Mosquitto): roles, scoping, bad input,
pause/resume/abort/rollback and timeouts. No agent answers here: benches stay pending until they time out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from fleet.ops.audit import AuditLog, AuditQuery
from fleet.ops.rollout_model import RolloutRequest
from fleet.ops.rollouts import RolloutJob, RolloutService
from fleet.runtime import FleetRuntime
from fleet.service_api import EVERYTHING
from tests.fleet.conftest import RuntimeFactory
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.clock import ManualClock

MOSTAR = {"municipality": "Mostar"}
BODY = {"patch": {"telemetry_interval_s": 120}, "targets": {"bench_ids": ["mostar-01", "trebinje-01", "ravno-01"]}}


def _setup(rt: FleetRuntime) -> tuple[Any, dict[str, dict[str, str]]]:
    rt.scheduler.remove_job("rollouts")  # the test steps the job itself
    wait_until(rt.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
    users = UserStore(rt.engine)
    users.add_user("crew", "a-long-password", "maintenance")
    users.add_user("mayor", "a-long-password", "municipality", municipality="Mostar")
    app = create_app(DashboardConfig(secret_key="k" * 32, secure_cookies=False), rt.service, users)
    auth = {name: {"Authorization": f"Bearer {users.create_token(name)}"} for name in ("crew", "mayor")}
    return app.test_client(), auth


def test_roles_scoping_and_bad_input(fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    client, auth = _setup(rt)
    assert client.post("/api/rollouts", json=BODY, headers={"Authorization": "Bearer bft_wrong"}).status_code == 401
    assert client.get("/api/rollouts").status_code == 401
    refused = client.post("/api/rollouts", json=BODY, headers=auth["mayor"])
    assert refused.status_code == 403
    assert "municipality may not" in refused.get_json()["error"]["message"]
    for body, field in (
        ({**BODY, "patch": {}}, "patch"),
        ({**BODY, "targets": {"bench_ids": ["nowhere-99"]}}, "nowhere-99"),
        ({**BODY, "targets": {"fleet": True, "municipality": "Mostar"}}, "exactly one"),
        ({**BODY, "canary": "maglaj-01"}, "canary"),
        ({**BODY, "percent": 150}, "percent"),
        ({**BODY, "patch": {"telemetry_interval_s": -5}}, "telemetry_interval_s"),
    ):
        answer = client.post("/api/rollouts", json=body, headers=auth["crew"])
        assert answer.status_code == 400, body
        assert field in answer.get_json()["error"]["message"]
    made = client.post("/api/rollouts", json={**BODY, "targets": MOSTAR}, headers=auth["crew"])
    assert made.status_code == 202
    doc = made.get_json()
    assert doc["status"] == "running"
    assert doc["created_by"] == "crew"
    assert [b["bench_id"] for b in doc["benches"]] == ["mostar-01"]
    assert made.headers["Location"].endswith(f"/api/rollouts/{doc['id']}")
    # A municipality user sees a rollout of their own benches, not one that touches others.
    assert client.get(f"/api/rollouts/{doc['id']}", headers=auth["mayor"]).status_code == 200
    wide = client.post("/api/rollouts", json=BODY, headers=auth["crew"]).get_json()
    assert client.get(f"/api/rollouts/{wide['id']}", headers=auth["mayor"]).status_code == 404
    listed = client.get("/api/rollouts", headers=auth["mayor"]).get_json()["rollouts"]
    assert [r["id"] for r in listed] == [doc["id"]]
    assert client.post(f"/api/rollouts/{doc['id']}/pause", headers=auth["mayor"]).status_code == 403
    assert client.post(f"/api/rollouts/{doc['id']}/explode", headers=auth["crew"]).status_code == 404
    inventory = client.get("/api/firmware", headers=auth["mayor"]).get_json()
    assert inventory["versions"] == {"unknown": ["mostar-01"]}  # nothing reported yet; Mostar's bench only
    assert inventory["benches"][0]["model"] is None
    page = client.get(f"/rollouts?id={wide['id']}", headers=auth["crew"])
    assert page.status_code == 200
    assert b'data-bench="ravno-01"' in page.data
    assert b'data-action="rollback"' in page.data


def test_pause_resume_abort_and_the_audit_trail(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory
) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    client, auth = _setup(rt)
    assert rt.rollouts is not None
    job = RolloutJob(rt.rollouts)
    rid = client.post("/api/rollouts", json=BODY, headers=auth["crew"]).get_json()["id"]
    assert client.post(f"/api/rollouts/{rid}/pause", headers=auth["crew"]).get_json()["status"] == "paused"
    job.run()  # a paused rollout sends nothing
    assert {t.desired_version for t in rt.twins.get_twins(["mostar-01", "ravno-01", "trebinje-01"]).values()} == {0}
    again = client.post(f"/api/rollouts/{rid}/pause", headers=auth["crew"])
    assert again.status_code == 409
    assert "paused" in again.get_json()["error"]["message"]
    assert client.post(f"/api/rollouts/{rid}/resume", headers=auth["crew"]).get_json()["status"] == "running"
    job.run()
    doc = client.get(f"/api/rollouts/{rid}", headers=auth["crew"]).get_json()
    assert [(b["bench_id"], b["state"]) for b in doc["benches"] if b["wave"] == 0] == [("mostar-01", "pending")]
    assert client.post(f"/api/rollouts/{rid}/abort", headers=auth["crew"]).get_json()["status"] == "aborted"
    assert client.post(f"/api/rollouts/{rid}/resume", headers=auth["crew"]).status_code == 409
    back = client.post(f"/api/rollouts/{rid}/rollback", headers=auth["crew"]).get_json()
    assert back["status"] == "rolled_back"
    twin = rt.twins.get_twin("mostar-01")
    assert twin is not None
    assert twin.desired.telemetry_interval_s != 120
    assert twin.desired_version == 2
    actions = [e.action for e in rt.service.audit_entries(AuditQuery(actor="crew"), EVERYTHING)]
    for action in ("rollout.create", "rollout.pause", "rollout.resume", "rollout.abort", "rollout.rollback"):
        assert action in actions


def test_a_bench_that_never_answers_times_out_and_halts_the_canary(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory
) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    _setup(rt)
    clock = ManualClock(rt.clock.now())
    rollouts = RolloutService(rt.engine, rt.twins, rt.service, AuditLog(rt.engine, clock), clock)
    made = rollouts.create(RolloutRequest.from_json({**BODY, "timeout_s": 60}), "crew", EVERYTHING)
    assert rollouts.advance(made.id) == "running"
    clock.advance(timedelta(seconds=59))
    assert rollouts.advance(made.id) == "running"
    clock.advance(timedelta(seconds=2))
    assert rollouts.advance(made.id) == "halted"
    found = rollouts.get(made.id)
    assert found is not None
    assert found.counts() == {"timed_out": 1, "queued": 2}
    assert found.reason == "wave 0: 1 of 1 bench(es) failed"
    # Resuming accepts the canary's failure: the next wave goes out.
    rollouts.act(made.id, "resume", "crew")
    assert rollouts.advance(made.id) == "running"
    after = rollouts.get(made.id)
    assert after is not None
    assert after.wave == 1
    rollouts.advance(made.id)
    after = rollouts.get(made.id)
    assert after is not None
    assert [b.state for b in after.benches if b.wave == 1] == ["pending"]


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_a_claimed_bench_is_sent_once_and_again_only_after_the_lease(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, tmp_sqlite_url: str, database: str
) -> None:
    # SQLite too: the demo's database, where timestamps come back naive.
    rt = runtime_factory(fresh_mosquitto.url, **({"db": tmp_sqlite_url} if database == "sqlite" else {}))
    _setup(rt)
    clock = ManualClock(rt.clock.now())
    audit = AuditLog(rt.engine, clock)
    first = RolloutService(rt.engine, rt.twins, rt.service, audit, clock)
    second = RolloutService(rt.engine, rt.twins, rt.service, audit, clock)  # another scheduler process
    made = first.create(RolloutRequest.from_json(BODY), "crew", EVERYTHING)
    # The first process took the canary and died before patching it.
    assert first._claim(made.id, "mostar-01", '"marker"')
    assert second.advance(made.id) == "running"
    twin = rt.twins.get_twin("mostar-01")
    assert twin is not None
    assert twin.desired_version == 0  # not sent while the claim lasts
    clock.advance(timedelta(seconds=61))
    second.advance(made.id)
    second.advance(made.id)
    twin = rt.twins.get_twin("mostar-01")
    assert twin is not None
    assert twin.desired_version == 1  # sent once, by the second process
    found = second.get(made.id)
    assert found is not None
    assert [b.state for b in found.benches if b.wave == 0] == ["pending"]


def test_firmware_requests_and_releases_are_checked(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory
) -> None:
    rt = runtime_factory(fresh_mosquitto.url)
    client, auth = _setup(rt)
    for body, words in (
        ({"kind": "bogus", "targets": MOSTAR}, "kind"),
        ({"kind": "firmware", "targets": MOSTAR}, "version"),
        ({"kind": "firmware", "version": "1.1.0", "targets": MOSTAR}, "mostar-01 (model not reported yet)"),
    ):
        answer = client.post("/api/rollouts", json=body, headers=auth["crew"])
        assert answer.status_code == 400, body
        assert words in answer.get_json()["error"]["message"]
    good = {"version": "1.1.0", "model": "sb-2023", "url": "http://x/a.tgz", "sha256": "a" * 64, "signature": "c2ln"}
    for bad, field in (({**good, "sha256": "zz"}, "sha256"), ({**good, "model": ""}, "model"), ({}, "model")):
        answer = client.post("/api/firmware/releases", json=bad, headers=auth["crew"])
        assert answer.status_code == 400, bad
        assert field in answer.get_json()["error"]["message"]
    assert client.post("/api/firmware/releases", json=good, headers=auth["mayor"]).status_code == 403
    assert client.post("/api/firmware/releases", json=good, headers=auth["crew"]).status_code == 200
    listed = client.get("/api/firmware/releases", headers=auth["crew"]).get_json()["releases"]
    assert [(r["version"], r["model"], r["uploaded_by"]) for r in listed] == [("1.1.0", "sb-2023", "crew")]
