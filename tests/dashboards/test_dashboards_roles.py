"""Every GET route against every role (and every language): the access table of docs/dashboards.md."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.dashboards.dash_support import USERS, LoggedIn, with_poll
from tests.dashboards.fake_fleet import FakeFleet

Login = Callable[[str], LoggedIn]
ROLES = ("ada", "max", "mo", "tre")  # admin, maintenance, municipality Mostar, municipality Trebinje

#: route → expected status for (ada, max, mo, tre); the poll runs on mostar-01 only.
MATRIX: dict[str, tuple[int, int, int, int]] = {
    "/fleet": (200, 200, 200, 200),
    "/fleet/data.json": (200, 200, 200, 200),
    "/benches/mostar-01": (200, 200, 200, 404),
    "/benches/mostar-01/charts.json?range=7d": (200, 200, 200, 404),
    "/benches/mostar-01/twin.json": (200, 200, 200, 404),
    "/participation": (200, 200, 200, 200),
    "/participation/park-2026/data.json": (200, 200, 200, 404),
    "/participation/park-2026.csv": (200, 200, 200, 404),
    "/participation/editor": (200, 403, 200, 200),
    "/config": (200, 200, 403, 403),
    "/config/values.json?bench=mostar-01": (200, 200, 403, 403),
    "/api/benches": (200, 200, 200, 200),
    "/api/benches/mostar-01": (200, 200, 200, 404),
    "/api/benches/mostar-01/series?field=load.power_w&start=-1h": (200, 200, 200, 404),
    "/api/polls": (200, 200, 200, 200),
    "/api/polls/park-2026/results": (200, 200, 200, 404),
    "/api/alerts": (200, 200, 200, 200),  # scoped: a municipality sees its own benches' alarms
    "/alarms": (200, 200, 200, 200),
    "/api/alert-recipients": (200, 200, 403, 403),
}


@pytest.fixture
def sessions(login: Login, fleet: FakeFleet) -> dict[str, LoggedIn]:
    with_poll(fleet, "mostar-01")
    return {name: login(name) for name in ROLES}


def test_access_matrix(sessions: dict[str, LoggedIn]) -> None:
    mismatches = []
    for route, expected in MATRIX.items():
        for name, want in zip(ROLES, expected, strict=True):
            got = sessions[name].get(route).status_code
            if got != want:
                mismatches.append(f"{name} ({USERS[name][0]}) GET {route}: {got}, expected {want}")
    assert mismatches == []


@pytest.mark.parametrize("locale", ["bs", "hr", "sr_Latn", "sr_Cyrl", "en"])
def test_every_page_renders_in_every_language(sessions: dict[str, LoggedIn], locale: str) -> None:
    ada = sessions["ada"]
    ada.post("/locale", data={"locale": locale, "csrf_token": ada.csrf})
    try:
        for route in ("/fleet", "/benches/mostar-01", "/participation", "/config", "/participation/editor"):
            response = ada.get(route)
            assert response.status_code == 200, route
            assert f'<html lang="{locale.replace("_", "-")}">' in response.get_data(as_text=True)
    finally:
        ada.post("/locale", data={"locale": "en", "csrf_token": ada.csrf})
