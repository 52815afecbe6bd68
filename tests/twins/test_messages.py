"""Contract payload models: the contract example validates; wrong types, missing sections, bad versions,
bad ids and naive timestamps are rejected with the field named; unknown keys are ignored."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tests.twins.samples import (
    CONTRACT_TELEMETRY,
    EVENT_DATA,
    cmd_doc,
    desired_doc,
    event_doc,
    reported_doc,
    status_doc,
    telemetry_doc,
)
from twins.codec import describe_errors
from twins.messages import (
    EVENT_ADAPTER,
    BootEvent,
    CmdResultEvent,
    Command,
    Desired,
    OtaProgressEvent,
    PortSessionEvent,
    Reported,
    Status,
    TamperEvent,
    Telemetry,
    VoteEvent,
)


def _validate_event(raw: bytes) -> Any:
    return EVENT_ADAPTER.validate_json(raw)


def _model(model: type[BaseModel]) -> Callable[[bytes], Any]:
    return model.model_validate_json


#: name → (valid document builder, validator). Every payload model of the contract.
CASES: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[bytes], Any]]] = {
    "telemetry": (telemetry_doc, _model(Telemetry)),
    **{
        f"event:{kind}": ((lambda k=kind: event_doc(k, EVENT_DATA[k])), _validate_event)  # type: ignore[misc]
        for kind in EVENT_DATA
    },
    "reported": (reported_doc, _model(Reported)),
    "status": (lambda: status_doc(True), _model(Status)),
    "desired": (desired_doc, _model(Desired)),
    "cmd": (cmd_doc, _model(Command)),
}


def _errors(validate: Callable[[bytes], Any], doc: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        validate(json.dumps(doc).encode())
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in info.value.errors()]


def _locs(validate: Callable[[bytes], Any], doc: Any) -> list[str]:
    return [loc for loc, _ in _errors(validate, doc)]


def _field(loc: str) -> str:
    """The location without the discriminator tag pydantic puts first for events."""
    head, _, rest = loc.partition(".")
    return rest if head in EVENT_DATA else loc


def test_contract_example_telemetry_validates() -> None:
    t = Telemetry.model_validate_json(CONTRACT_TELEMETRY)
    assert t.bench_id == "mostar-01"
    assert t.ts == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert t.seq == 1042
    assert t.battery.soc_pct == pytest.approx(81.2)
    assert t.battery.current_a == pytest.approx(-1.2)
    assert [(p.id, p.kind, p.active) for p in t.ports] == [
        ("usb-1", "usb", True),
        ("qi-1", "wireless", False),
        ("scooter-1", "scooter", False),
    ]
    assert t.wifi.clients == 7
    assert t.votes == {"park-2026": {"yes": 12, "no": 5}}
    assert t.shed == []


@pytest.mark.parametrize("name", list(CASES))
def test_every_valid_sample_validates_and_round_trips(name: str) -> None:
    build, validate = CASES[name]
    doc = build()
    model = validate(json.dumps(doc).encode())
    assert model.bench_id == "mostar-01"
    assert model.v == 1
    again = validate(model.model_dump_json().encode())
    assert again == model
    assert json.loads(model.model_dump_json())["ts"].endswith("Z")


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("bad_v", [2, 0, "1", None, True])
def test_every_model_rejects_a_version_other_than_1(name: str, bad_v: Any) -> None:
    build, validate = CASES[name]
    locs = [_field(loc) for loc in _locs(validate, {**build(), "v": bad_v})]
    assert locs == ["v"]


@pytest.mark.parametrize("name", list(CASES))
def test_every_model_requires_v_bench_id_and_ts(name: str) -> None:
    build, validate = CASES[name]
    for key in ("v", "bench_id", "ts"):
        doc = {k: val for k, val in build().items() if k != key}
        errors = [(_field(loc), typ) for loc, typ in _errors(validate, doc)]
        assert errors == [(key, "missing")]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("bad_id", ["Mostar-01", "mo", "mostar_01", "", "-mostar", 12])
def test_every_model_rejects_a_bad_bench_id(name: str, bad_id: Any) -> None:
    build, validate = CASES[name]
    assert [_field(loc) for loc in _locs(validate, {**build(), "bench_id": bad_id})] == ["bench_id"]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("bad_ts", ["2026-11-26T10:00:00", "2026-11-26 10:00", "yesterday", 1764151200, None])
def test_every_model_rejects_naive_or_non_rfc3339_timestamps(name: str, bad_ts: Any) -> None:
    build, validate = CASES[name]
    assert [_field(loc) for loc in _locs(validate, {**build(), "ts": bad_ts})] == ["ts"]


def test_timestamps_with_offsets_are_normalised_to_utc() -> None:
    t = Telemetry.model_validate_json(json.dumps(telemetry_doc(ts="2026-11-26T12:00:00+02:00")))
    assert t.ts == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert t.ts.utcoffset() is not None
    assert json.loads(t.model_dump_json())["ts"] == "2026-11-26T10:00:00.000Z"


@pytest.mark.parametrize(
    ("section", "field", "bad"),
    [
        ("battery", "soc_pct", "81.2"),
        ("battery", "voltage_v", None),
        ("battery", "temp_c", [21.5]),
        ("battery", "soc_pct", 101),
        ("battery", "soc_pct", -0.1),
        ("solar", "power_w", "88"),
        ("solar", "energy_today_wh", -1),
        ("load", "power_w", {}),
        ("wifi", "clients", 7.5),
        ("wifi", "clients", "7"),
        ("wifi", "clients", True),
        ("wifi", "sessions_today", -1),
    ],
)
def test_telemetry_rejects_wrong_types_and_ranges_naming_the_field(section: str, field: str, bad: Any) -> None:
    doc = telemetry_doc()
    doc[section] = {**doc[section], field: bad}
    errors = _errors(Telemetry.model_validate_json, doc)
    assert [loc for loc, _ in errors] == [f"{section}.{field}"]


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("active", "true"),
        ("active", 1),
        ("kind", "usb-c"),
        ("id", "USB 1"),
        ("power_w", "7.5"),
        ("sessions_today", 1.5),
    ],
)
def test_telemetry_port_errors_name_the_port_and_field(field: str, bad: Any) -> None:
    doc = telemetry_doc()
    doc["ports"][1] = {**doc["ports"][1], field: bad}
    assert _locs(Telemetry.model_validate_json, doc) == [f"ports.1.{field}"]


@pytest.mark.parametrize(
    ("votes", "loc_prefix"),
    [
        ({"park-2026": {"yes": "12"}}, "votes.park-2026.yes"),
        ({"park-2026": {"yes": -1}}, "votes.park-2026.yes"),
        ({"park-2026": 12}, "votes.park-2026"),
        ({"Bad Poll": {"yes": 1}}, "votes.Bad Poll"),
        ([1, 2], "votes"),
    ],
)
def test_telemetry_vote_counters_are_checked(votes: Any, loc_prefix: str) -> None:
    locs = _locs(Telemetry.model_validate_json, telemetry_doc(votes=votes))
    assert locs
    assert all(loc.startswith(loc_prefix) for loc in locs)


@pytest.mark.parametrize("section", ["seq", "battery", "solar", "load", "ports", "wifi", "votes"])
def test_telemetry_sections_are_all_required(section: str) -> None:
    doc = {k: v for k, v in telemetry_doc().items() if k != section}
    assert _errors(Telemetry.model_validate_json, doc) == [(section, "missing")]


def test_telemetry_ignores_unknown_keys_everywhere() -> None:
    doc = telemetry_doc(firmware_extra={"x": 1}, humidity_pct=40)
    doc["battery"]["cycles"] = 120
    doc["ports"][0]["connector"] = "usb-c"
    doc["wifi"]["band"] = "2.4GHz"
    t = Telemetry.model_validate_json(json.dumps(doc))
    assert t == Telemetry.model_validate_json(json.dumps(telemetry_doc()))
    assert "humidity_pct" not in t.model_dump()


def test_telemetry_negative_seq_rejected_and_shed_checked() -> None:
    assert _locs(Telemetry.model_validate_json, telemetry_doc(seq=-1)) == ["seq"]
    assert _locs(Telemetry.model_validate_json, telemetry_doc(shed=["lights"])) == ["shed.0"]
    t = Telemetry.model_validate_json(json.dumps(telemetry_doc(shed=["scooter", "wifi"])))
    assert t.shed == ["scooter", "wifi"]


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("vote", VoteEvent),
        ("port_session", PortSessionEvent),
        ("tamper", TamperEvent),
        ("boot", BootEvent),
        ("ota_progress", OtaProgressEvent),
        ("cmd_result", CmdResultEvent),
    ],
)
def test_events_are_told_apart_by_type(kind: str, model: type[BaseModel]) -> None:
    event = EVENT_ADAPTER.validate_json(json.dumps(event_doc(kind, EVENT_DATA[kind])))
    assert type(event) is model
    assert event.type == kind


def test_event_with_unknown_or_missing_type_is_rejected() -> None:
    for doc in (
        event_doc("launch", {}),
        {k: v for k, v in event_doc("vote", EVENT_DATA["vote"]).items() if k != "type"},
    ):
        errors = _errors(_validate_event, doc)
        assert errors[0][1] in ("union_tag_invalid", "union_tag_not_found")


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"poll_id": "park-2026", "option": 5}, "vote.data.option"),
        ({"poll_id": "park-2026"}, "vote.data.option"),
        ({"poll_id": "Park 2026", "option": "yes"}, "vote.data.poll_id"),
    ],
)
def test_vote_event_errors_name_the_field(data: dict[str, Any], loc: str) -> None:
    assert _locs(_validate_event, event_doc("vote", data)) == [loc]


def test_event_id_must_be_a_uuid() -> None:
    doc = {**event_doc("vote", EVENT_DATA["vote"]), "id": "not-a-uuid"}
    assert _locs(_validate_event, doc) == ["vote.id"]


def test_status_online_must_be_a_boolean() -> None:
    assert _locs(Status.model_validate_json, status_doc(True) | {"online": "true"}) == ["online"]
    assert _locs(Status.model_validate_json, status_doc(True) | {"online": 1}) == ["online"]
    s = Status.model_validate_json(json.dumps(status_doc(False, reason="connection lost")))
    assert s.online is False
    assert s.reason == "connection lost"


def test_reported_config_report() -> None:
    ok = Reported.model_validate_json(json.dumps(reported_doc(config={"version": 3, "status": "applied"})))
    assert ok.config is not None
    assert (ok.config.version, ok.config.status, ok.config.error) == (3, "applied", None)
    assert _locs(Reported.model_validate_json, reported_doc(config={"version": 3, "status": "done"})) == [
        "config.status"
    ]
    assert _locs(Reported.model_validate_json, {k: v for k, v in reported_doc().items() if k != "firmware"}) == [
        "firmware"
    ]


def test_desired_version_and_config_are_checked() -> None:
    assert _locs(Desired.model_validate_json, desired_doc(version=0)) == ["version"]
    doc = desired_doc()
    doc["config"] = {**doc["config"], "telemetry_interval_s": 1}
    assert _locs(Desired.model_validate_json, doc) == ["config.telemetry_interval_s"]


def test_command_name_is_one_of_the_known_commands() -> None:
    assert _locs(Command.model_validate_json, cmd_doc() | {"name": "format_disk"}) == ["name"]


def test_describe_errors_names_the_field_first_and_limits_the_list() -> None:
    doc = telemetry_doc()
    doc["battery"] = {"soc_pct": "81.2", "voltage_v": "x", "current_a": "y", "temp_c": "z"}
    with pytest.raises(ValidationError) as info:
        Telemetry.model_validate_json(json.dumps(doc))
    text = describe_errors(info.value)
    assert text.startswith("battery.soc_pct: ")
    assert "and 1 more" in text
    assert "battery.temp_c" not in text
