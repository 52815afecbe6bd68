"""Bench identifiers."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

BENCH_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"
_BENCH_ID_RE = re.compile(BENCH_ID_PATTERN)

BenchId = Annotated[str, StringConstraints(pattern=BENCH_ID_PATTERN)]
"""A bench id as a pydantic field type."""


def is_bench_id(value: str) -> bool:
    """Tell whether ``value`` is a valid bench id (e.g. ``mostar-01``)."""
    return bool(_BENCH_ID_RE.fullmatch(value))


def require_bench_id(value: str) -> str:
    """Return ``value`` if it is a valid bench id, else raise ValueError naming the rule."""
    if not is_bench_id(value):
        raise ValueError(f"invalid bench id {value!r}: must match {BENCH_ID_PATTERN}")
    return value
