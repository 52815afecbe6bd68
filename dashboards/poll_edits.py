"""Changing polls on benches (save, close early, delete) through the versioned desired-config path, and the
poll editor's list: each poll with its votes and where it stands on its benches.

Every change is a merge patch of the bench's ``polls`` through ``FleetApi.patch_desired`` (a new desired
version, audited, published retained), conditional on the version the editor last saw (If-Match), so an edit
never overwrites a change the user has not seen. Votes live in the SQL vote table and are never touched here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from dashboards.i18n import fmt_time
from dashboards.labels import config_state_labels
from dashboards.participation_model import localised, poll_doc
from fleet.service_api import FleetApi, PollInfo, Scope
from twins.config import Poll
from twins.twin import InvalidConfig, Twin, VersionConflict

#: A change of one bench's poll list.
PollChange = Callable[[list[Poll]], list[Poll]]


def replacing(poll: Poll) -> PollChange:
    """Add ``poll``, or replace the poll of the same id."""
    return lambda polls: [*(p for p in polls if p.id != poll.id), poll]


def removing(poll_id: str) -> PollChange:
    """Take the poll ``poll_id`` off."""
    return lambda polls: [p for p in polls if p.id != poll_id]


def closing(poll_id: str, at: datetime) -> PollChange:
    """Close the poll ``poll_id`` at ``at`` (votes cast before still count: they are checked by their time)."""
    return lambda polls: [p.model_copy(update={"closes": at}) if p.id == poll_id else p for p in polls]


def push(
    fleet: FleetApi, targets: list[Twin], change: PollChange, versions: Mapping[str, int], actor: str
) -> list[dict[str, Any]]:
    """Apply ``change`` to each target's polls as a new desired version, conditional on ``versions`` (bench →
    the desired version the user saw; the current one for a bench not named); one result per bench."""
    results: list[dict[str, Any]] = []
    for twin in targets:
        polls = [p.model_dump(mode="json") for p in change(list(twin.desired.polls))]
        seen = versions.get(twin.bench_id, twin.desired_version)
        try:
            updated = fleet.patch_desired(twin.bench_id, {"polls": polls}, seen, actor)
        except VersionConflict:
            results.append(_failed(twin, "conflict", _("changed meanwhile: reload the list and try again")))
        except InvalidConfig as err:
            results.append(_failed(twin, "failed", str(err)))
        else:
            state = updated.config_state()
            results.append(
                {"bench_id": twin.bench_id, "version": updated.desired_version, "state": state, "error": None}
            )
    labels = config_state_labels()
    for result in results:
        result["state_text"] = labels.get(result["state"], result["state"])
    return results


def _failed(twin: Twin, state: str, error: str) -> dict[str, Any]:
    return {"bench_id": twin.bench_id, "version": twin.desired_version, "state": state, "error": error}


def poll_state(twin: Twin, poll_id: str) -> str:
    """Where a bench stands with one of its polls: applied once the config it applied carries the poll as
    desired (a later, unrelated push still pending does not make the poll pending); benches that do not
    report their applied config are taken at the state of their latest desired version."""
    applied = twin.reported.applied_config if twin.reported else None
    state = twin.config_state()
    if applied is None:
        return state
    if applied.poll(poll_id) == twin.desired.poll(poll_id):
        return "applied"
    return "rejected" if state == "rejected" else "pending"


def phase(poll: PollInfo, now: datetime) -> str:
    """``scheduled``, ``open`` or ``closed`` at ``now``."""
    return "scheduled" if now < poll.opens else "open" if now < poll.closes else "closed"


def phase_labels() -> dict[str, str]:
    """The phases' names in the viewer's language."""
    return {"scheduled": _("scheduled"), "open": _("open"), "closed": _("closed")}


def editor_rows(fleet: FleetApi, scope: Scope, locale: str) -> list[dict[str, Any]]:
    """Every poll within ``scope`` as the editor lists it: texts, times, phase, counted votes, the state on
    each bench and the desired versions an edit is conditional on."""
    now = fleet.now()
    twins = {t.bench_id: t for t in fleet.list_twins(scope)}
    states = config_state_labels()
    phases = phase_labels()
    rows = []
    for poll in fleet.polls(scope):
        carrying = [twins[b] for b in poll.bench_ids if b in twins]
        per_bench = {t.bench_id: poll_state(t, poll.poll_id) for t in carrying}
        counts: dict[str, int] = {}
        for state in per_bench.values():
            counts[state] = counts.get(state, 0) + 1
        votes = sum(fleet.poll_results(poll.poll_id, scope).total.values())
        now_phase = phase(poll, now)
        rows.append(
            {
                **poll_doc(poll, locale),
                "option_text": {o.id: localised(o.labels, locale) for o in poll.options},
                "phase": now_phase,
                "phase_text": phases[now_phase],
                "when": f"{fmt_time(poll.opens)} – {fmt_time(poll.closes)}",
                "votes": votes,
                "votes_text": ngettext("%(num)d vote", "%(num)d votes", votes),
                "states": per_bench,
                "states_text": ", ".join(f"{states.get(s, s)}: {n}" for s, n in sorted(counts.items())),
                "versions": {t.bench_id: t.desired_version for t in carrying},
            }
        )
    return rows
