"""The open-data export: published polls' results per bench and per municipality, under CC BY 4.0."""

from __future__ import annotations

import csv
import io
from typing import Any

from dashboards.deps import deps
from dashboards.participation_model import poll_doc
from dashboards.publication import LICENCE, publications, published_polls
from fleet.service_api import EVERYTHING
from twins.clock import to_rfc3339

OPEN_DATA_FILE = "benchfleet-poll-results"
CSV_COLUMNS = ("poll_id", "level", "municipality", "bench_id", "option", "votes", "licence", "licence_url")


def _rows() -> list[dict[str, Any]]:
    """One entry per published poll: its texts, when published, and its tallies per municipality and bench."""
    fleet = deps().fleet
    store = publications()
    published = store.all() if store else {}
    municipality_of = {t.bench_id: t.attributes.municipality for t in fleet.list_twins(EVERYTHING)}
    polls = []
    for poll in published_polls():
        results = fleet.poll_results(poll.poll_id, EVERYTHING)
        doc = poll_doc(poll)
        options = [o.id for o in poll.options]
        polls.append(
            {
                "id": poll.poll_id,
                "question": doc["question"],
                "options": doc["options"],
                "opens": doc["opens"],
                "closes": doc["closes"],
                "published_at": to_rfc3339(published[poll.poll_id].published_at),
                "total": {o: results.total.get(o, 0) for o in options},
                "by_municipality": {
                    m: {o: tally.get(o, 0) for o in options} for m, tally in sorted(results.by_municipality.items())
                },
                "by_bench": [
                    {
                        "bench_id": bench_id,
                        "municipality": municipality_of.get(bench_id, ""),
                        "votes": {o: tally.get(o, 0) for o in options},
                    }
                    for bench_id, tally in sorted(results.by_bench.items())
                ],
            }
        )
    return polls


def open_data_doc() -> dict[str, Any]:
    """The JSON export."""
    return {"licence": LICENCE, "generated_at": to_rfc3339(deps().fleet.now()), "polls": _rows()}


def open_data_csv() -> str:
    """The CSV export: a row per poll, level (municipality or bench), place and option; licence on every row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    lic = (LICENCE["name"], LICENCE["url"])
    for poll in _rows():
        for municipality, tally in poll["by_municipality"].items():
            for option, votes in tally.items():
                writer.writerow([poll["id"], "municipality", municipality, "", option, votes, *lic])
        for bench in poll["by_bench"]:
            for option, votes in bench["votes"].items():
                writer.writerow([poll["id"], "bench", bench["municipality"], bench["bench_id"], option, votes, *lic])
    return buffer.getvalue()
