"""Queries behind the participation page: results, figures and turnout within a scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import ngettext

from dashboards.figures.participation import municipality_bars, option_bars, participation_map, turnout
from dashboards.labels import participation_labels
from dashboards.participation_model import poll_doc, public_results_doc, results_doc
from fleet.service_api import FleetApi, PollInfo, Scope


def _turnout_figure(fleet: FleetApi, poll: PollInfo, scope: Scope, labels: dict[str, str]) -> dict[str, Any]:
    end = min(fleet.now(), poll.closes)
    start = poll.opens
    if end <= start:
        return turnout([], labels["turnout"], labels["votes"])
    every = max(timedelta(minutes=5), (end - start) / 200)
    # One bucket past ``end``: the query end is exclusive and the latest votes sit in the current bucket.
    samples = fleet.turnout(poll.poll_id, scope, start, end + every, every)
    return turnout(samples, labels["turnout"], labels["votes"])


def participation_data(fleet: FleetApi, poll: PollInfo, scope: Scope, locale: str, public: bool) -> dict[str, Any]:
    """Poll, tallies and every chart; ``public`` leaves out per-bench detail (citizens see aggregates)."""
    results = fleet.poll_results(poll.poll_id, scope)
    doc = poll_doc(poll, locale)
    labels = participation_labels()
    options = [o.id for o in poll.options]
    figures: dict[str, Any] = {
        "options": option_bars(results.total, options, doc["option_text"], labels["options"]),
        "municipalities": municipality_bars(
            results.by_municipality, options, doc["option_text"], labels["municipalities"]
        ),
        "turnout": _turnout_figure(fleet, poll, scope, labels),
    }
    if not public:
        benches = [t for t in fleet.list_twins(scope) if t.bench_id in poll.bench_ids]
        figures["map"] = participation_map(benches, results.by_bench, labels["map"])
        # Votes per bench are listed by the bench's name (ids are for machines).
        doc["bench_names"] = {
            t.bench_id: t.attributes.name for t in fleet.list_twins(scope) if t.bench_id in results.by_bench
        }
    if public:
        doc.pop("bench_ids", None)
    return {
        "poll": doc,
        "results": public_results_doc(results) if public else results_doc(results),
        "figures": figures,
        # The word after the count, in the language's plural form for it (1 glas, 2 glasa, 5 glasova).
        "votes_word": ngettext("vote", "votes", sum(results.total.values())),
    }
