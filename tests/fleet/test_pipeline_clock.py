"""Bench clocks that are wrong must not freeze twins, and votes in one second must not overwrite each other."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from fleet.ingest.pipeline import RawMessage
from tests.fleet.ingest_kit import pipeline_kit
from tests.twins.samples import T0, telemetry_doc, vote_doc
from twins.messages import VoteEvent
from twins.series import vote_point


def _raw(topic: str, doc: dict) -> RawMessage:
    return RawMessage(topic, json.dumps(doc).encode())


def test_sample_from_a_clock_far_ahead_is_rejected_and_later_samples_still_apply(tmp_path: Path, db_url: str) -> None:
    with pipeline_kit(tmp_path, db_url) as kit:
        future = telemetry_doc("mostar-01", when=T0 + timedelta(days=365 * 73), seq=1)
        kit.pipeline.handle([_raw("benches/mostar-01/telemetry", future)])
        assert kit.rejected("ts_in_future") == 1
        kit.pipeline.handle([_raw("benches/mostar-01/telemetry", telemetry_doc("mostar-01", when=T0, seq=2))])
        twin = kit.twins.get_twin("mostar-01")
        assert twin is not None
        assert twin.telemetry is not None
        assert twin.telemetry.seq == 2


def test_small_clock_drift_ahead_is_accepted(tmp_path: Path, db_url: str) -> None:
    with pipeline_kit(tmp_path, db_url) as kit:
        ahead = telemetry_doc("mostar-01", when=T0 + timedelta(minutes=4), seq=1)
        kit.pipeline.handle([_raw("benches/mostar-01/telemetry", ahead)])
        assert kit.rejected("ts_in_future") == 0
        assert kit.twins.get_twin("mostar-01").telemetry.seq == 1  # type: ignore[union-attr]


def test_votes_in_the_same_second_are_separate_turnout_points(tmp_path: Path) -> None:
    events = [VoteEvent.model_validate_json(json.dumps(vote_doc(event_id=str(uuid.uuid4())))) for _ in range(20)]
    stamps = {vote_point(e, "Mostar").ts for e in events}
    assert len(stamps) >= 18  # 1 in 1,000 chance per pair of sharing a millisecond
    assert all(abs(p - events[0].ts) < timedelta(seconds=1) for p in stamps)
    again = vote_point(events[0], "Mostar")
    assert again.ts == vote_point(events[0], "Mostar").ts  # a redelivered vote lands on the same point
