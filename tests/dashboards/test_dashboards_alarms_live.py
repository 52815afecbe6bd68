"""The live ``alert`` event over real Socket.IO test clients: once per alarm transition, only to those who
may see the bench (the app's announcer thread claims transitions from the alarm store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from fleet.ops.alarms import AlarmStore, BenchFindings
from tests.dashboards.dash_support import LoggedIn
from tests.dashboards.fake_fleet import FakeFleet
from tests.waiting import wait_until
from twins.alarm_rules import RULES_BY_CODE, Finding
from twins.reasons import Reason

Login = Callable[[str], LoggedIn]


def _alerts(client: Any, into: list[dict[str, Any]]) -> list[dict[str, Any]]:
    into.extend(m["args"][0] for m in client.get_received() if m["name"] == "alert")
    return into


def test_alert_once_per_transition_to_the_right_rooms(
    app: Flask, socketio: SocketIO, login: Login, fleet: FakeFleet, alarm_store: AlarmStore
) -> None:
    mo_session, tre_session, ada_session = login("mo"), login("tre"), login("ada")
    mo = socketio.test_client(app, flask_test_client=mo_session.client)
    tre = socketio.test_client(app, flask_test_client=tre_session.client)
    ada = socketio.test_client(app, flask_test_client=ada_session.client)
    assert mo.is_connected()
    assert tre.is_connected()
    assert ada.is_connected()

    tamper = RULES_BY_CODE["tamper"]
    finding = {"tamper": Finding(tamper, Reason("alarm_tamper", {"at": "2026-11-26T09:58Z"}))}
    for _ in range(3):  # evaluated three times: one alarm, one transition, one event
        alarm_store.observe([BenchFindings("mostar-01", "Mostar", finding)], fleet.now(), [tamper])
    got_mo: list[dict[str, Any]] = []
    got_ada: list[dict[str, Any]] = []
    wait_until(lambda: _alerts(mo, got_mo), timeout=5, message="mo gets the Mostar alert")
    wait_until(lambda: _alerts(ada, got_ada), timeout=5, message="admin gets the Mostar alert")
    (alarm,) = alarm_store.search()
    mo_session.post(f"/api/alerts/{alarm.id}/ack", json={"comment": "on it"})
    wait_until(lambda: len(_alerts(mo, got_mo)) >= 2, timeout=5, message="mo gets the acknowledgement")

    assert [(a["transition"], a["bench_id"], a["state"]) for a in got_mo] == [
        ("raised", "mostar-01", "active"),
        ("acknowledged", "mostar-01", "acknowledged"),
    ]
    assert got_mo[1]["actor"] == "mo"
    wait_until(lambda: len(_alerts(ada, got_ada)) >= 2, timeout=5, message="admin gets the acknowledgement")
    assert [a["transition"] for a in got_ada] == ["raised", "acknowledged"]
    assert _alerts(tre, []) == []  # Trebinje's staff hear nothing of Mostar
