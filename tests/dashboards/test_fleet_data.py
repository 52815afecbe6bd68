"""The fleet page's compact data: rows kept until a twin changes, health following the clock, dictionaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboards.fleet_data import COLUMNS, SCALE, FleetRows, decode, encode
from fleet.service_api import EVERYTHING, Scope
from tests.dashboards.fake_fleet import FakeFleet, telemetry
from twins.clock import ManualClock
from twins.reasons import Reason

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_a_row_is_kept_until_its_twin_changes_and_its_health_follows_the_clock() -> None:
    fleet = FakeFleet(ManualClock(T0))
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=55.4321))
    rows = FleetRows(health_reuse_s=5.0)
    first, _ = rows.rows(fleet.list_twins(EVERYTHING), fleet.now(), complete=True)
    i = [r[0] for r in first].index("mostar-01")
    row = dict(zip(COLUMNS, first[i], strict=True))
    assert (row["health"], row["reasons"], row["battery.soc_pct"]) == ("ok", None, 554)  # in tenths
    assert row["last_seen"] == int(T0.timestamp())
    fleet.clock.advance(timedelta(seconds=4))
    assert rows.rows(fleet.list_twins(EVERYTHING), fleet.now())[0][i] is first[i]  # unchanged twin, health reused
    # A changed twin gets a new row at once, whatever the reuse window.
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 2, soc=5.0))
    held, written = rows.rows(fleet.list_twins(EVERYTHING), fleet.now(), text=lambda r: f"<{r.code}>", language="xx")
    changed = dict(zip(COLUMNS, held[i], strict=True))
    assert changed["health"] == "critical"
    assert changed["reasons"] == ("battery_at\x1fsoc=5",)  # the row keeps a key of what the text shows
    assert written[i] == ("<battery_at>",)  # written by the viewer's language's function
    # Time alone: past the reuse window, a silent bench's health is evaluated again.
    fleet.clock.advance(timedelta(hours=2))
    later = rows.rows(fleet.list_twins(EVERYTHING), fleet.now())[1][i]  # in English by default
    assert later is not None
    assert any("silent" in r for r in later)


def test_columns_round_trip_through_the_dictionaries_and_answer_only_their_scope() -> None:
    fleet = FakeFleet(ManualClock(T0))
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=5.0))
    rows = FleetRows()
    everything, written = rows.rows(fleet.list_twins(EVERYTHING), fleet.now(), complete=True)
    doc = encode(everything, written)  # reasons in English
    assert doc["n"] == len(everything) == 12
    plain = decode(doc)
    scaled = [
        {c: v / SCALE[c] if c in SCALE and v is not None else v for c, v in zip(COLUMNS, r, strict=True)}
        | {"reasons": w}
        for r, w in zip(everything, written, strict=True)
    ]
    assert [{c: plain[c][k] for c in COLUMNS} for k in range(12)] == scaled
    twin = fleet.twins["mostar-01"]
    k = plain["bench_id"].index("mostar-01")
    assert (plain["lat"][k], plain["lon"][k]) == (round(twin.attributes.lat, 5), round(twin.attributes.lon, 5))
    assert plain["battery.soc_pct"][k] == 5.0
    assert len(doc["dicts"]["municipality"]) == 12
    assert all(isinstance(k, int) for k in doc["columns"]["municipality"])
    mostar = encode(*rows.rows(fleet.list_twins(Scope(frozenset({"Mostar"}))), fleet.now()))
    assert mostar["dicts"]["municipality"] == ["Mostar"]
    assert mostar["dicts"]["reasons"] == [
        ("battery at 5 %",)
    ]  # English by default  # each bench's list of reasons, once
    assert list(encode([])["columns"]["bench_id"]) == []


def test_each_distinct_reason_text_is_written_once_per_language_as_the_english_counts_it() -> None:
    fleet = FakeFleet(ManualClock(T0))
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1))
    fleet.clock.advance(timedelta(seconds=30))
    fleet.ingest_telemetry(telemetry("trebinje-01", fleet.now(), 1))
    fleet.clock.advance(timedelta(seconds=200))  # silent for 230 s and 200 s: "3 min" both, in English
    calls: list[Reason] = []

    def text(reason: Reason) -> str:
        calls.append(reason)
        return reason.english().upper()

    twins = fleet.list_twins(Scope(frozenset({"Mostar", "Trebinje"})))
    held, written = FleetRows().rows(twins, fleet.now(), text=text, language="bs")
    assert held[0][-1] == held[1][-1]  # one key for both
    assert written == [("SILENT FOR 3 MIN (EXPECTED EVERY 60 S)",)] * 2
    assert len(calls) == 1  # one text for both benches
    assert calls[0].params["age"] == 180  # the whole minutes the English shows: translations count alike
