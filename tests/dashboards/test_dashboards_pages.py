"""Pages and their JSON: fleet, bench, participation (and its public variant), configuration, poll editor, languages."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from dashboards.app import create_app
from dashboards.figures.fleet_map import fleet_map
from dashboards.fleet_data import decode
from fleet.auth.store import UserStore
from fleet.service_api import EVERYTHING
from tests.dashboards.dash_support import POLL, LoggedIn, make_config, start_live, with_poll
from tests.dashboards.fake_fleet import FakeFleet, telemetry

Login = Callable[[str], LoggedIn]
TRANSLATIONS = Path(__file__).resolve().parents[2] / "dashboards" / "translations"


def test_fleet_data_is_scoped_and_columnar(login: Login, fleet: FakeFleet) -> None:
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=5.0, load=70.0))
    doc = login("ada").get("/fleet/data.json").get_json()
    cols = decode(doc)  # repeated values travel as indices into the answer's dictionaries
    assert doc["n"] == len(cols["bench_id"]) == 12
    assert doc["dicts"]["health"][doc["columns"]["health"][cols["bench_id"].index("mostar-01")]] == "critical"
    assert sorted(doc["dicts"]["municipality"]) == sorted(set(cols["municipality"]))
    i = cols["bench_id"].index("mostar-01")
    assert cols["health"][i] == "critical"
    bench_trace = doc["figure"]["data"][0]
    assert bench_trace["type"] == "scattergl"  # WebGL
    assert bench_trace["x"] == []  # filled in the browser from the columns: every value travels once
    assert doc["figure"]["data"][1]["name"] == "outline"
    assert doc["figure"]["layout"]["meta"]["colours"]["critical"] == "#c62828"
    full = fleet_map(cols, {})
    assert full["data"][0]["marker"]["color"][i] == "#c62828"
    assert full["data"][0]["marker"]["size"][i] == 20.0
    assert full["data"][0]["customdata"][i] == "mostar-01"
    assert cols["reasons"][i] == ["battery at 5 %"]
    mostar = login("mo").get("/fleet/data.json").get_json()
    assert mostar["columns"]["bench_id"] == ["mostar-01"]
    assert mostar["dicts"]["municipality"] == ["Mostar"]  # no other town's values in the dictionaries


def test_online_tile_style_is_a_setting(fleet: FakeFleet, user_store: UserStore) -> None:
    app = create_app(make_config(tile_url="https://tiles.example/{z}/{x}/{y}.png"), fleet, user_store)
    try:
        session = LoggedIn(app.test_client(), "ada")
        figure = session.get("/fleet/data.json").get_json()["figure"]
        assert figure["data"][0]["type"] == "scattermap"
        assert figure["layout"]["map"]["layers"][0]["source"] == ["https://tiles.example/{z}/{x}/{y}.png"]
    finally:
        app.extensions["benchfleet"].live.stop()


def test_offline_page_loads_nothing_from_the_internet(login: Login) -> None:
    html = login("ada").get("/fleet").get_data(as_text=True)
    assert "vendor/plotly.min.js" in html
    assert "vendor/socket.io.min.js" in html
    assert "http://" not in html.replace("http://localhost", "")
    assert "https://" not in html


def test_bench_page_shows_delta_and_twin(login: Login, fleet: FakeFleet) -> None:
    fleet.report_config("mostar-01", 0, "applied")  # the bench runs the default config...
    fleet.patch_desired("mostar-01", {"wifi": {"max_clients": 30}}, None, "t")  # ...and has not applied this yet
    html = login("mo").get("/benches/mostar-01").get_data(as_text=True)
    assert '<tr class="delta" data-path="wifi.max_clients"><td>Wi-Fi users at once</td><td>30</td><td>20</td>' in html
    assert '<tr class="" data-path="wifi.ssid">' in html
    assert "pending (v1)" in html
    assert "1.2.0" in html  # firmware version


def test_twin_json_carries_the_rows_the_page_redraws(login: Login, fleet: FakeFleet) -> None:
    fleet.report_config("mostar-01", 0, "applied")
    fleet.patch_desired("mostar-01", {"wifi": {"max_clients": 30}}, None, "t")
    doc = login("mo").get("/benches/mostar-01/twin.json").get_json()
    rows = {r["path"]: r for r in doc["compare"]}
    assert rows["wifi.max_clients"] == {
        "path": "wifi.max_clients",
        "label": "Wi-Fi users at once",
        "desired": "30",
        "reported": "20",
        "differs": True,
    }
    assert rows["wifi.enabled"]["desired"] == "yes"  # a switch reads yes/no, never True
    assert rows["wifi.ssid"]["differs"] is False
    assert doc["desired"]["version"] == 1
    assert doc["reported"]["firmware"]["version"] == "1.2.0"


def test_bench_charts_with_clear_sky(login: Login, fleet: FakeFleet) -> None:
    fleet.clock.advance(timedelta(hours=1))
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now() - timedelta(minutes=30), 1, soc=70.0))
    doc = login("ada").get("/benches/mostar-01/charts.json?range=24h").get_json()
    figs = doc["figures"]
    assert set(figs) == {"battery", "solar", "energy", "load", "ports", "wifi"}
    assert 70.0 in figs["battery"]["data"][0]["y"]
    clear = figs["solar"]["data"][1]["y"]
    assert max(clear) > 50  # midday sun over Mostar in November on a 200 Wp panel
    assert min(clear) == 0  # and night
    assert len(figs["energy"]["data"][0]["x"]) == len(figs["energy"]["data"][1]["y"])
    assert login("ada").get("/benches/mostar-01/charts.json?range=1y").status_code == 400


@pytest.mark.parametrize(("user", "status"), [("ada", 200), ("max", 200), ("mo", 403), ("tre", 403)])
def test_config_page_rights(login: Login, user: str, status: int) -> None:
    assert login(user).get("/config").status_code == status


@pytest.mark.parametrize(("user", "status"), [("ada", 200), ("max", 403), ("mo", 200)])
def test_poll_editor_rights(login: Login, user: str, status: int) -> None:
    assert login(user).get("/participation/editor").status_code == status


def test_config_push_shows_field_errors(login: Login, fleet: FakeFleet) -> None:
    session = login("max")
    bad = session.post(
        "/config/push",
        json={
            "target": "bench",
            "name": "mostar-01",
            "values": {"wifi.max_clients": "many", "telemetry_interval_s": 1},
        },
    )
    assert bad.status_code == 422
    # Every error at once, in words: the parse error and the model's bound on the field that parsed.
    assert bad.get_json()["error"]["fields"] == {
        "wifi.max_clients": "must be a whole number",
        "telemetry_interval_s": "must be at least 5",
    }
    invalid = session.post(
        "/config/push", json={"target": "fleet", "name": "", "values": {"load_shedding.usb_below_pct": "60"}}
    )
    assert invalid.status_code == 422
    assert invalid.get_json()["error"]["fields"] == {
        "load_shedding": "must switch off scooter charging first, then Wi-Fi, then USB (falling thresholds)"
    }
    assert fleet.patches == []  # nothing pushed anywhere
    session.post("/locale", data={"locale": "bs", "csrf_token": session.csrf})
    try:
        bosnian = session.post(
            "/config/push",
            json={"target": "bench", "name": "mostar-01", "values": {"display.on_hours.start": "25:00"}},
        )
        assert bosnian.get_json()["error"]["fields"] == {
            "display.on_hours.start": "nije u očekivanom obliku (vrijeme dana piše se kao 07:30)"
        }
    finally:
        session.post("/locale", data={"locale": "en", "csrf_token": session.csrf})


def test_config_push_to_a_municipality_and_the_fleet(login: Login, fleet: FakeFleet) -> None:
    session = login("ada")
    one = session.post(
        "/config/push", json={"target": "municipality", "name": "Mostar", "values": {"display.brightness_pct": "55"}}
    )
    assert one.status_code == 200
    assert one.get_json()["results"] == [{"bench_id": "mostar-01", "version": 1, "state": "pending"}]
    everyone = session.post("/config/push", json={"target": "fleet", "values": {"wifi.enabled": False}})
    assert len(everyone.get_json()["results"]) == 12
    assert all(t.desired.wifi.enabled is False for t in fleet.list_twins(EVERYTHING))
    assert session.post("/config/push", json={"target": "fleet", "values": {}}).status_code == 400
    assert session.post("/config/push", json={"target": "moon", "values": {"wifi.enabled": True}}).status_code == 400


def test_config_values_follow_the_chosen_bench(login: Login, fleet: FakeFleet) -> None:
    fleet.patch_desired("trebinje-01", {"wifi": {"ssid": "Trebinje"}}, None, "t")
    doc = login("max").get("/config/values.json?bench=trebinje-01").get_json()
    assert doc["values"]["wifi.ssid"] == "Trebinje"
    assert doc["version"] == 1


def test_poll_editor_puts_the_poll_on_own_benches_only(login: Login, fleet: FakeFleet) -> None:
    mo = login("mo")
    saved = mo.post("/participation/polls", json={"municipality": "Mostar", "poll": POLL})
    assert saved.status_code == 200
    assert [r["bench_id"] for r in saved.get_json()["results"]] == ["mostar-01"]
    assert fleet.get_twin("mostar-01").desired.poll("park-2026") is not None  # type: ignore[union-attr]
    assert fleet.get_twin("trebinje-01").desired.polls == []  # type: ignore[union-attr]
    assert mo.post("/participation/polls", json={"municipality": "Trebinje", "poll": POLL}).status_code == 403
    broken = dict(POLL, question={"bs": "Novi park?"}, closes="2026-01-01T00:00:00Z")
    bad = mo.post("/participation/polls", json={"municipality": "Mostar", "poll": broken})
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert "question" in fields
    assert fields["question"] == "needs a text in every language; missing: hr, sr, en"
    assert login("max").post("/participation/polls", json={"poll": POLL}).status_code == 403


def test_participation_data_and_csv(login: Login, fleet: FakeFleet) -> None:
    with_poll(fleet, "mostar-01", "trebinje-01")
    for bench, option in [("mostar-01", "yes"), ("mostar-01", "yes"), ("trebinje-01", "no")]:
        fleet.clock.advance(timedelta(minutes=7))
        fleet.vote(bench, "park-2026", option)
    ada = login("ada")
    doc = ada.get("/participation/park-2026/data.json").get_json()
    assert doc["poll"]["text"] == "A new park?"
    assert doc["results"]["votes"] == 3
    assert doc["figures"]["options"]["data"][0]["y"] == [2, 1]
    assert sum(doc["figures"]["turnout"]["data"][0]["y"][-1:]) == 3  # cumulative
    assert set(doc["figures"]) == {"options", "municipalities", "map", "turnout"}
    response = ada.get("/participation/park-2026.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {(r["bench_id"], r["option"], r["votes"]) for r in rows} == {
        ("mostar-01", "yes", "2"),
        ("mostar-01", "no", "0"),
        ("trebinje-01", "yes", "0"),
        ("trebinje-01", "no", "1"),
    }
    mine = list(csv.DictReader(io.StringIO(login("mo").get("/participation/park-2026.csv").get_data(as_text=True))))
    assert {r["bench_id"] for r in mine} == {"mostar-01"}


@pytest.fixture
def public_app(fleet: FakeFleet, user_store: UserStore) -> Iterator[Flask]:
    app = create_app(make_config(public_results=True), fleet, user_store)
    start_live(app, fleet)
    yield app
    app.extensions["benchfleet"].live.stop()


def test_public_results_need_no_login_and_show_aggregates_only(public_app: Flask, fleet: FakeFleet) -> None:
    with_poll(fleet, "mostar-01", "trebinje-01")
    fleet.vote("mostar-01", "park-2026", "yes")
    client = public_app.test_client()
    assert client.get("/public/participation").status_code == 200
    results = client.get("/public/api/polls/park-2026/results").get_json()
    assert results["total"] == {"yes": 1}
    assert "by_bench" not in results
    data = client.get("/public/participation/park-2026/data.json").get_json()
    assert "map" not in data["figures"]
    assert "by_bench" not in data["results"]
    public_polls = client.get("/public/api/polls").get_json()["polls"]
    assert public_polls[0]["id"] == "park-2026"
    assert "bench_ids" not in public_polls[0]
    assert "bench_ids" not in data["poll"]
    assert client.get("/api/polls").status_code == 401  # the private API stays private


@pytest.mark.parametrize("path", ["/public/participation", "/public/api/polls", "/public/api/polls/park-2026/results"])
def test_public_results_are_off_by_default(app: Flask, path: str) -> None:
    assert app.test_client().get(path).status_code == 404


@pytest.mark.parametrize(
    ("locale", "word", "number"),
    [
        ("bs", "Flota", "33,3"),
        ("hr", "Sudjelovanje", "33,3"),
        ("sr_Latn", "Učešće", "33,3"),
        ("sr_Cyrl", "Флота", "33,3"),
        ("en", "Fleet", "33.3"),
    ],
)
def test_language_switch_per_user(login: Login, fleet: FakeFleet, locale: str, word: str, number: str) -> None:
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=33.3))
    session = login("ada")
    try:
        assert (
            session.post("/locale", data={"locale": locale, "next": "/fleet", "csrf_token": session.csrf}).status_code
            == 302
        )
        html = session.get("/benches/mostar-01").get_data(as_text=True)
        assert word in html
        assert f"{number}\u202f%" in html
        assert f'lang="{locale.replace("_", "-")}"' in html
    finally:
        session.post("/locale", data={"locale": "en", "csrf_token": session.csrf})


def test_poll_text_in_the_viewers_language(login: Login, fleet: FakeFleet) -> None:
    poll = dict(POLL, question={"bs": "Novi park?", "hr": "Novi park?", "sr": "Nova šuma i park?", "en": "A new park?"})
    with_poll(fleet, "mostar-01")
    fleet.patch_desired("mostar-01", {"polls": [poll]}, None, "t")
    session = login("mo")
    try:
        session.post("/locale", data={"locale": "sr_Cyrl", "csrf_token": session.csrf})
        doc = session.get("/participation/park-2026/data.json").get_json()
        assert doc["poll"]["text"] == "Нова шума и парк?"
        assert doc["poll"]["option_text"] == {"yes": "Да", "no": "Не"}
    finally:
        session.post("/locale", data={"locale": "en", "csrf_token": session.csrf})


def test_unknown_locale_is_refused(login: Login) -> None:
    session = login("ada")
    assert session.post("/locale", data={"locale": "de", "csrf_token": session.csrf}).status_code == 400
