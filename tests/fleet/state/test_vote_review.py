"""Issue 8, item 3: an implausible vote rate from one bench is held as suspect until reviewed (real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from fleet.ingest.pipeline import RawMessage
from fleet.ops.audit import AuditLog, AuditQuery
from fleet.state.vote_review import list_suspect, review_suspect
from tests.fleet.ingest_kit import Kit, pipeline_kit
from tests.twins.samples import payload, vote_doc
from twins.twin import Twin

BURST = 5000
LIMIT = 120  # the default VoteRate: 120 per bench and poll in 10 minutes


@pytest.fixture
def kit(tmp_path: Path, db_url: str) -> Iterator[Kit]:
    with pipeline_kit(tmp_path, db_url) as k:
        k.carry_polls()
        yield k


def burst(kit: Kit, n: int = BURST, bench: str = "mostar-01") -> None:
    votes = [
        RawMessage(f"benches/{bench}/events", payload(vote_doc(bench, option=("yes", "no")[i % 2]))) for i in range(n)
    ]
    for i in range(0, n, 500):  # the ingest worker's batches
        kit.pipeline.handle(votes[i : i + 500])


def twin(kit: Kit, bench_id: str = "mostar-01") -> Twin:
    found = kit.twins.get_twin(bench_id)
    assert found is not None
    return found


def counted(kit: Kit, bench_id: str = "mostar-01") -> int:
    return sum(twin(kit, bench_id).counted_votes.get("park-2026", {}).values())


def codes(kit: Kit, bench_id: str = "mostar-01") -> set[str]:
    return {r.code for r in twin(kit, bench_id).health(kit.clock.now()).reasons}


def test_a_burst_is_held_as_suspect_not_counted_and_health_shows_it(kit: Kit) -> None:
    burst(kit)
    assert counted(kit) == LIMIT
    assert twin(kit).votes_suspect == BURST - LIMIT
    assert "votes_suspect" in codes(kit)
    assert kit.counter("benchfleet_votes_suspect") == BURST - LIMIT
    assert kit.counter("benchfleet_votes_counted") == LIMIT
    assert kit.store.vote_count() == BURST  # nothing dropped: every vote is stored
    [group] = list_suspect(kit.twins.engine)
    assert (group.bench_id, group.municipality, group.poll_id, group.votes) == (
        "mostar-01",
        "Mostar",
        "park-2026",
        BURST - LIMIT,
    )
    assert list_suspect(kit.twins.engine, frozenset({"Trebinje"})) == []


def test_votes_after_a_burst_stay_held_until_reviewed(kit: Kit) -> None:
    burst(kit, LIMIT + 1)
    kit.clock.advance(timedelta(hours=1))  # the rate is back to normal, but a review is still pending
    burst(kit, 1)
    assert counted(kit) == LIMIT
    assert twin(kit).votes_suspect == 2


def test_a_review_accepts_them_into_the_tallies_exactly_once(kit: Kit) -> None:
    burst(kit)
    audit = AuditLog(kit.twins.engine, kit.clock)
    assert review_suspect(kit.twins.engine, "mostar-01", "park-2026", "accept", audit, "ada") == BURST - LIMIT
    assert review_suspect(kit.twins.engine, "mostar-01", "park-2026", "accept", audit, "ada") == 0
    assert counted(kit) == BURST
    assert twin(kit).counted_votes["park-2026"] == {"yes": BURST // 2, "no": BURST // 2}
    assert twin(kit).votes_suspect == 0
    assert "votes_suspect" not in codes(kit)
    assert list_suspect(kit.twins.engine) == []
    entries = audit.entries(AuditQuery(bench_id="mostar-01"), None)
    assert [(e.actor, e.action, e.after) for e in entries][-1] == (
        "ada",
        "votes.accept",
        {"decision": "accept", "votes": BURST - LIMIT},
    )


def test_a_review_rejects_them_for_good(kit: Kit) -> None:
    burst(kit, 200)
    assert review_suspect(kit.twins.engine, "mostar-01", "park-2026", "reject") == 80
    assert counted(kit) == LIMIT
    assert twin(kit).votes_suspect == 0
    assert kit.store.vote_count() == 200  # kept for the record, not counted
    # A fresh, plausible vote after the review counts again.
    kit.clock.advance(timedelta(hours=1))
    burst(kit, 1)
    assert counted(kit) == LIMIT + 1


def test_other_benches_are_not_affected(kit: Kit) -> None:
    burst(kit, 300)
    burst(kit, 3, bench="trebinje-01")
    assert counted(kit, "trebinje-01") == 3
    assert "votes_suspect" not in codes(kit, "trebinje-01")
