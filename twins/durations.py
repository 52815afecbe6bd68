"""Durations as people type them: ``90m``, ``36h``, ``365d``, ``2w`` or combinations such as ``1d12h``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_S = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[wdhms])+")
_NO_LAST_UNIT = re.compile(r"(?:\d+(?:\.\d+)?[wdhms])*\d+(?:\.\d+)?")
EXAMPLES = "e.g. 45s, 5m, 36h, 365d, 2w or 1d12h"


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration: numbers each followed by w, d, h, m or s; ValueError naming the text."""
    value = text.strip().lower()
    if not value:
        raise ValueError(f"duration is empty; use a number and a unit, {EXAMPLES}")
    if _NO_LAST_UNIT.fullmatch(value):
        raise ValueError(f"duration {text!r}: the last number has no unit (w, d, h, m or s), {EXAMPLES}")
    if not _WHOLE.fullmatch(value):
        raise ValueError(f"duration {text!r}: use numbers each followed by w, d, h, m or s, {EXAMPLES}")
    total = sum(float(number) * _UNIT_S[unit] for number, unit in _PART.findall(value))
    if total <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    return timedelta(seconds=total)
