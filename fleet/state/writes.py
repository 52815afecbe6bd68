"""What one ingestion batch asks of the twin state, collapsed per bench before it reaches SQL."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleet.registry import BenchRecord
from twins.messages import Reported, Status, Telemetry, VoteEvent


@dataclass(frozen=True, slots=True)
class VoteRow:
    """A vote event to record, with the municipality it is counted for."""

    event: VoteEvent
    municipality: str


@dataclass
class TwinWrites:
    """The newest sample, reported document and status per bench of a batch, its votes and who was seen.

    Only the newest of each section per bench needs an UPDATE attempt: the statement's WHERE still
    guards against a newer value that another worker has committed meanwhile.
    """

    telemetry: dict[str, Telemetry] = field(default_factory=dict)
    #: The JSON each kept sample arrived as, where known (validated, so it reads back as the same model).
    telemetry_docs: dict[str, str] = field(default_factory=dict)
    reported: dict[str, Reported] = field(default_factory=dict)
    status: dict[str, Status] = field(default_factory=dict)
    votes: dict[str, VoteRow] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    register: dict[str, BenchRecord] = field(default_factory=dict)
    telemetry_offered: int = 0
    votes_offered: int = 0

    def offer_telemetry(self, sample: Telemetry, doc: str = "") -> None:
        """Keep the sample (and ``doc``, its JSON) if it is the newest of its bench in this batch (by ts, then seq)."""
        self.telemetry_offered += 1
        held = self.telemetry.get(sample.bench_id)
        if held is None or (sample.ts, sample.seq) > (held.ts, held.seq):
            self.telemetry[sample.bench_id] = sample
            if doc:
                self.telemetry_docs[sample.bench_id] = doc
            else:
                self.telemetry_docs.pop(sample.bench_id, None)

    def offer_reported(self, doc: Reported) -> None:
        """Keep the document unless an older one (by ts) than the one held; on a tie the later wins."""
        held = self.reported.get(doc.bench_id)
        if held is None or doc.ts >= held.ts:
            self.reported[doc.bench_id] = doc

    def offer_status(self, status: Status) -> None:
        """Keep the status unless older (by ts) than the one held; on a tie the later wins."""
        held = self.status.get(status.bench_id)
        if held is None or status.ts >= held.ts:
            self.status[status.bench_id] = status

    def offer_vote(self, row: VoteRow) -> None:
        """Add a vote event (one per event id)."""
        self.votes_offered += 1
        self.votes.setdefault(str(row.event.id), row)

    def benches(self) -> list[str]:
        """Every bench this batch writes to, sorted (the one lock order of every writer)."""
        voters = (v.event.bench_id for v in self.votes.values())
        return sorted({*self.telemetry, *self.reported, *self.status, *self.seen, *voters})


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What a committed batch changed: the section per changed twin, the votes counted for the first time,
    how many telemetry samples were applied, and for each bench whose reported document this batch moved,
    the desired version and reported document it had before (for ConfigStatusChanged), and the new votes
    held as suspect (implausible rate)."""

    changed: dict[str, str]
    new_votes: list[VoteRow]
    telemetry_applied: int
    reported_before: dict[str, tuple[int, Reported | None]]
    suspect_votes: list[VoteRow] = field(default_factory=list)
