"""Reason texts: every code renders in English with its parameters, and the rules answer only known codes."""

from __future__ import annotations

import re

from twins.reasons import TEXTS, Reason

SAMPLE = {"int": 7, "dec1": 47.25, "pct": 0.27, "time": "2026-12-01T06:40Z", "duration": 7300, "term": "usb"}


def _sample(code: str) -> Reason:
    kinds = TEXTS[code].kinds
    return Reason(code, {k: SAMPLE.get(kind, "battery, solar") for k, kind in kinds.items()})


def test_every_code_renders_every_placeholder() -> None:
    for code, text in TEXTS.items():
        assert set(re.findall(r"%\((\w+)\)s", text.template)) == set(text.kinds), code
        english = _sample(code).english()
        assert "%(" not in english, code
        assert "%%" not in english, code


def test_english_keeps_the_former_wording() -> None:
    assert Reason("alarm_battery_below", {"soc": 8.4, "limit": 10.0}).english() == "battery at 8.4 % (below 10 %)"
    # Not the "at 20 % (below 20 %)" a whole number gave for 19.9 %.
    assert Reason("alarm_battery_below", {"soc": 19.9, "limit": 20.0}).english() == "battery at 19.9 % (below 20 %)"
    assert Reason("stale", {"age": 7300}).english() == "silent for 2 h"
    assert (
        Reason("alarm_tamper", {"at": "2026-12-01T06:40Z"}).english() == "tamper sensor fired at 2026-12-01 06:40 UTC"
    )
    assert Reason("alarm_yield_low", {"share": 0.21, "days": 3, "limit": 0.3}).english().startswith("solar yield 21% ")
