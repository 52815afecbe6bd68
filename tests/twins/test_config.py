"""The desired bench configuration: load-shedding order, poll languages and dates, unique ids, ranges."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from tests.twins.samples import poll_doc
from twins.config import DEFAULT_CONFIG_DOC, LANGUAGES, SHED_ORDER, BenchConfig, Poll


def _config(**over: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DEFAULT_CONFIG_DOC)
    doc.update(over)
    return doc


def _errors(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        BenchConfig.model_validate_json(json.dumps(doc))
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in info.value.errors()]


def test_default_config_is_valid() -> None:
    cfg = BenchConfig.model_validate_json(json.dumps(DEFAULT_CONFIG_DOC))
    assert cfg.telemetry_interval_s == 60
    assert cfg.polls == []
    ls = cfg.load_shedding
    assert ls.scooter_below_pct >= ls.wifi_below_pct >= ls.usb_below_pct
    assert SHED_ORDER == ("scooter", "wifi", "usb")


@pytest.mark.parametrize(
    ("scooter", "wifi", "usb", "ok"),
    [
        (40, 25, 15, True),
        (30, 30, 30, True),  # equal thresholds shed together; still in order
        (40, 0, 0, True),
        (20, 25, 15, False),  # wifi before scooter
        (40, 10, 15, False),  # usb before wifi
        (10, 20, 30, False),
    ],
)
def test_load_shedding_order(scooter: float, wifi: float, usb: float, ok: bool) -> None:
    ls = {"scooter_below_pct": scooter, "wifi_below_pct": wifi, "usb_below_pct": usb}
    doc = _config(load_shedding=ls)
    if ok:
        assert BenchConfig.model_validate_json(json.dumps(doc)).load_shedding.wifi_below_pct == wifi
    else:
        errors = _errors(doc)
        assert [loc for loc, _ in errors] == ["load_shedding"]
        assert "scooter_below_pct >= wifi_below_pct >= usb_below_pct" in errors[0][1]


def test_load_shedding_ranges() -> None:
    ls = {"scooter_below_pct": 140, "wifi_below_pct": 25, "usb_below_pct": 15}
    assert [loc for loc, _ in _errors(_config(load_shedding=ls))] == ["load_shedding.scooter_below_pct"]
    ls = {"scooter_below_pct": 40, "wifi_below_pct": 25, "usb_below_pct": 15, "hysteresis_pct": 50}
    assert [loc for loc, _ in _errors(_config(load_shedding=ls))] == ["load_shedding.hysteresis_pct"]


def test_valid_poll() -> None:
    cfg = BenchConfig.model_validate_json(json.dumps(_config(polls=[poll_doc()])))
    poll = cfg.poll("park-2026")
    assert poll is not None
    assert [o.id for o in poll.options] == ["yes", "no"]
    assert set(poll.question) == set(LANGUAGES)
    assert cfg.poll("other") is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_poll_question_needs_every_language(lang: str) -> None:
    poll = poll_doc()
    del poll["question"][lang]
    errors = _errors(_config(polls=[poll]))
    assert [loc for loc, _ in errors] == ["polls.0.question"]
    assert lang in errors[0][1]


def test_poll_option_labels_need_every_language_and_no_blank() -> None:
    poll = poll_doc()
    poll["options"][1]["labels"]["sr"] = "   "
    errors = _errors(_config(polls=[poll]))
    assert errors[0][0] == "polls.0.options.1.labels"
    assert "sr" in errors[0][1]


def test_poll_unknown_language_rejected() -> None:
    poll = poll_doc()
    poll["question"]["de"] = "Neuer Park?"
    errors = _errors(_config(polls=[poll]))
    assert errors[0][0] == "polls.0.question"
    assert "de" in errors[0][1]


@pytest.mark.parametrize(
    ("opens", "closes"),
    [("2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z"), ("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z")],
)
def test_poll_must_open_before_it_closes(opens: str, closes: str) -> None:
    errors = _errors(_config(polls=[poll_doc(opens=opens, closes=closes)]))
    assert errors[0][0] == "polls.0.closes"
    assert "closes must be after opens" in errors[0][1]


def test_poll_dates_must_be_aware() -> None:
    errors = _errors(_config(polls=[poll_doc(opens="2026-11-01T00:00:00")]))
    assert [loc for loc, _ in errors] == ["polls.0.opens"]


def test_poll_is_open_between_opens_and_closes() -> None:
    poll = Poll.model_validate_json(json.dumps(poll_doc()))
    assert not poll.is_open(datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    assert poll.is_open(datetime(2026, 11, 1, tzinfo=UTC))
    assert poll.is_open(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert not poll.is_open(datetime(2026, 12, 1, tzinfo=UTC))


def test_poll_ids_and_option_ids_unique() -> None:
    errors = _errors(_config(polls=[poll_doc(), poll_doc()]))
    assert errors[0][0] == "polls"
    assert "poll ids must be unique" in errors[0][1]
    poll = poll_doc()
    poll["options"][1]["id"] = "yes"
    errors = _errors(_config(polls=[poll]))
    assert errors[0][0] == "polls.0.options"
    assert "option ids must be unique" in errors[0][1]


def test_poll_needs_two_options() -> None:
    poll = poll_doc()
    poll["options"] = poll["options"][:1]
    assert [loc for loc, _ in _errors(_config(polls=[poll]))] == ["polls.0.options"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("telemetry_interval_s",), 4),
        (("telemetry_interval_s",), "60"),
        (("wifi", "ssid"), ""),
        (("wifi", "max_clients"), 0),
        (("wifi", "enabled"), "yes"),
        (("ports", "scooter", "max_power_w"), 501),
        (("display", "brightness_pct"), 101),
        (("display", "on_hours", "start"), "24:00"),
        (("display", "on_hours", "end"), "7:00"),
    ],
)
def test_field_errors_name_the_path(path: tuple[str, ...], value: Any) -> None:
    doc = _config()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert [loc for loc, _ in _errors(doc)] == [".".join(path)]


def test_unknown_config_keys_are_rejected() -> None:
    # Unlike telemetry, a desired config is written by operators: a typo must not pass silently.
    assert [loc for loc, _ in _errors(_config(telemetry_intervall_s=30))] == ["telemetry_intervall_s"]


def test_missing_sections_named() -> None:
    doc = _config()
    del doc["wifi"]
    assert _errors(doc) == [("wifi", "Field required")]
