"""Payload builders for the end-to-end tests, with offsets from one base time (built on tests/twins/samples.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.twins.samples import T0, status_doc, telemetry_doc, vote_doc
from twins.clock import to_rfc3339

BASE_TS = T0


def ts(offset_s: float = 0.0) -> str:
    """An RFC 3339 UTC timestamp ``offset_s`` after BASE_TS."""
    return to_rfc3339(BASE_TS + timedelta(seconds=offset_s))


def telemetry(bench_id: str = "mostar-01", seq: int = 1, offset_s: float = 0.0, **over: Any) -> dict[str, Any]:
    """The contract's example sample, without vote counters unless given (``over`` wins, ``ts`` included)."""
    over.setdefault("votes", {})
    return telemetry_doc(bench_id, when=BASE_TS + timedelta(seconds=offset_s), seq=seq, **over)


def vote(
    bench_id: str = "mostar-01",
    poll_id: str = "park-2026",
    option: str = "yes",
    event_id: str | None = None,
    offset_s: float = 0.0,
) -> dict[str, Any]:
    """A vote event (a fresh id unless given)."""
    return vote_doc(bench_id, BASE_TS + timedelta(seconds=offset_s), poll_id, option, event_id)


def status(bench_id: str = "mostar-01", online: bool = True, offset_s: float = 0.0) -> dict[str, Any]:
    """A status message."""
    return status_doc(online, bench_id, BASE_TS + timedelta(seconds=offset_s))


def dumps(doc: dict[str, Any]) -> bytes:
    """Wire form."""
    return json.dumps(doc).encode()
