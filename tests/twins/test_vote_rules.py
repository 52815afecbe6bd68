"""Issue 8, item 3 (the rule): which votes count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.twins.samples import poll_doc
from twins.config import Poll
from twins.vote_rules import VoteRefusal, vote_refusal

OPENS = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def polls() -> list[Poll]:
    return [Poll.model_validate(poll_doc(opens="2026-11-20T00:00:00Z", closes="2026-12-20T00:00:00Z"), strict=False)]


@pytest.mark.parametrize(
    ("poll_id", "option", "at", "refusal"),
    [
        ("park-2026", "yes", OPENS, None),
        ("park-2026", "yes", OPENS + timedelta(days=29, hours=23), None),
        ("park-2026", "yes", OPENS - timedelta(seconds=1), VoteRefusal.POLL_NOT_OPEN),
        ("park-2026", "yes", OPENS + timedelta(days=30), VoteRefusal.POLL_NOT_OPEN),  # closed yesterday or before
        ("park-2026", "hijack", OPENS, VoteRefusal.UNKNOWN_OPTION),
        ("treb-secret", "yes", OPENS, VoteRefusal.UNKNOWN_POLL),  # another bench's (town's) poll
    ],
)
def test_vote_rule(polls: list[Poll], poll_id: str, option: str, at: datetime, refusal: VoteRefusal | None) -> None:
    assert vote_refusal(polls, poll_id, option, at) is refusal


def test_refusals_are_distinct_metric_labels() -> None:
    labels = [r.value for r in VoteRefusal]
    assert len(set(labels)) == len(labels)
    assert all(label.startswith("vote_") for label in labels)
