"""Participation: poll results (live), CSV download and the poll editor for municipal staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from pydantic import ValidationError

from dashboards.access import login_required, me, require, require_poll_ids_free, scope
from dashboards.config_messages import in_words
from dashboards.deps import deps
from dashboards.errors import ApiError
from dashboards.participation_data import participation_data
from dashboards.participation_model import poll_doc, results_csv, visible_poll
from dashboards.poll_edits import closing, editor_rows, phase, push, removing, replacing
from dashboards.publication import is_closed, publications, published_ids
from fleet.reports.publication import Publications
from fleet.service_api import EVERYTHING, PollInfo
from twins.clock import to_rfc3339
from twins.config import LANGUAGES, Poll
from twins.twin import Twin

bp = Blueprint("participation", __name__, url_prefix="/participation")


@bp.get("")
@login_required
def index() -> str:
    """Every visible poll; one is shown in detail."""
    locale = str(get_locale())
    published = published_ids()
    polls = [
        {**poll_doc(p, locale), "closed": is_closed(p), "published": p.poll_id in published}
        for p in deps().fleet.polls(scope())
    ]
    return render_template("participation.html", polls=polls, public=False, can_edit=me().can("edit_polls"))


@bp.get("/<poll_id>/data.json")
@login_required
def data(poll_id: str) -> Response:
    """Poll, tallies and charts."""
    poll = visible_poll(poll_id, scope())
    return jsonify(participation_data(deps().fleet, poll, scope(), str(get_locale()), public=False))


@bp.get("/<poll_id>.csv")
@login_required
def csv_download(poll_id: str) -> Response:
    """Tallies per bench and option as CSV."""
    poll = visible_poll(poll_id, scope())
    fleet = deps().fleet
    municipality_of = {t.bench_id: t.attributes.municipality for t in fleet.list_twins(scope())}
    body = results_csv(poll, fleet.poll_results(poll_id, scope()), municipality_of)
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{poll_id}-results.csv"'}
    )


@bp.get("/editor")
@login_required
@require("edit_polls")
def editor() -> str:
    """The poll editor: question and options in every kiosk language, open and close times."""
    municipalities = sorted({t.attributes.municipality for t in deps().fleet.list_twins(scope())})
    return render_template("poll_editor.html", municipalities=municipalities, languages=LANGUAGES)


def _poll_field_errors(err: ValidationError) -> dict[str, str]:
    return {path or "poll": text for path, text in in_words(err).items()}


def _claimer(municipalities: list[str]) -> str | None:
    """Who a new poll id goes to: the one municipality named, the user's only one, or (an admin) the fleet."""
    if len(municipalities) == 1:
        return municipalities[0]
    mine = scope().municipalities
    if mine is None:
        return None
    if len(mine) == 1:
        return next(iter(mine))
    raise ApiError(422, "municipality_required", "name the municipality the poll belongs to")


def _municipalities(body: dict[str, Any]) -> list[str]:
    """The municipalities named (``municipalities`` list, or the older single ``municipality``); none: all the
    user's benches. Another town's is refused."""
    named = body.get("municipalities")
    if named is None:
        named = [body["municipality"]] if body.get("municipality") else []
    if not isinstance(named, list) or not all(isinstance(m, str) for m in named):
        raise ApiError(400, "bad_request", "municipalities must be a list of names")
    for municipality in named:
        if not scope().allows(municipality):
            raise ApiError(403, "forbidden", f"municipality {municipality!r} is not yours")
    return sorted(set(named))


def _versions(body: dict[str, Any]) -> dict[str, int]:
    """The desired version per bench the user saw (the If-Match of each bench's change); may be empty."""
    versions = body.get("versions") or {}
    if not isinstance(versions, dict) or not all(isinstance(v, int) for v in versions.values()):
        raise ApiError(400, "bad_request", "versions must map bench ids to desired versions")
    return {str(k): v for k, v in versions.items()}


def _body() -> dict[str, Any]:
    body: Any = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "send a JSON object")
    return body


@bp.get("/polls.json")
@login_required
@require("edit_polls")
def polls_list() -> Response:
    """The polls on the user's benches, each with its votes, its state per bench and the versions to edit it at."""
    return jsonify({"polls": editor_rows(deps().fleet, scope(), str(get_locale()))})


@bp.post("/polls")
@login_required
@require("edit_polls")
def save_poll() -> Response:
    """Add or replace a poll on every bench of the named municipalities (none: every visible bench)."""
    body = _body()
    try:
        poll = Poll.model_validate(body.get("poll"), strict=False)
    except ValidationError as err:
        raise ApiError(422, "invalid_poll", _("the poll is invalid"), fields=_poll_field_errors(err)) from err
    municipalities = _municipalities(body)
    versions = _versions(body)
    require_poll_ids_free([poll.id], _claimer(municipalities))
    fleet = deps().fleet
    targets = [
        t for t in fleet.list_twins(scope()) if not municipalities or t.attributes.municipality in municipalities
    ]
    if not targets:
        raise ApiError(404, "no_benches", _("no bench to put the poll on"))
    results = push(fleet, targets, replacing(poll), versions, me().name)
    return jsonify({"poll_id": poll.id, "results": results})


def _carrying(poll_id: str) -> list[Twin]:
    """The user's benches that carry the poll (after the ownership check)."""
    _own_poll(poll_id)
    return [t for t in deps().fleet.list_twins(scope()) if t.desired.poll(poll_id) is not None]


@bp.post("/polls/<poll_id>/close")
@login_required
@require("edit_polls")
def close_poll(poll_id: str) -> Response:
    """Close an open poll now on every bench of the user's that carries it; its counted votes stay."""
    fleet = deps().fleet
    poll = _own_poll(poll_id)
    now = fleet.now().replace(microsecond=0)
    if phase(poll, now) != "open":
        raise ApiError(409, "poll_not_open", _("only an open poll can be closed early: delete one not opened yet"))
    results = push(fleet, _carrying(poll_id), closing(poll_id, now), _versions(_body()), me().name)
    return jsonify({"poll_id": poll_id, "closes": to_rfc3339(now), "results": results})


@bp.delete("/polls/<poll_id>")
@login_required
@require("edit_polls")
def delete_poll(poll_id: str) -> Response:
    """Take a poll off the user's benches. A poll with counted votes is closed instead, never deleted: its
    results are read with its definition, which only the benches' configs hold."""
    fleet = deps().fleet
    _own_poll(poll_id)
    votes = sum(fleet.poll_results(poll_id, EVERYTHING).total.values())
    if votes:
        message = ngettext(
            "%(num)d vote is counted for this poll: close it instead, so that its results stay",
            "%(num)d votes are counted for this poll: close it instead, so that its results stay",
            votes,
        )
        raise ApiError(409, "poll_has_votes", message, votes=votes)
    results = push(fleet, _carrying(poll_id), removing(poll_id), _versions(_body()), me().name)
    return jsonify({"poll_id": poll_id, "results": results})


def _own_poll(poll_id: str) -> PollInfo:
    """The poll if the user may publish it: 404 when not visible, 403 when another municipality also runs it.

    A poll belongs to the municipalities whose benches carry it or counted votes for it (the rule of
    ``require_poll_ids_free``); a municipality user must own all of them, an admin owns every poll.
    """
    poll = visible_poll(poll_id, scope())
    mine = scope().municipalities
    if mine is not None:
        # The fleet-wide view: within the user's scope the poll seems to run in their municipality only.
        fleet = deps().fleet
        everywhere = next((p for p in fleet.polls(EVERYTHING) if p.poll_id == poll_id), poll)
        used = set(everywhere.municipalities) | set(fleet.poll_results(poll_id, EVERYTHING).by_municipality)
        if used - mine:
            raise ApiError(403, "forbidden", f"poll {poll_id!r} is not only your municipality's")
    return poll


def _store() -> Publications:
    store = publications()
    if store is None:
        raise ApiError(503, "unavailable", "publishing is not set up on this server")
    return store


@bp.post("/<poll_id>/publish")
@login_required
@require("edit_polls")
def publish(poll_id: str) -> Response:
    """Publish a closed poll's results on the public page, the embed widget and the open-data export."""
    poll = _own_poll(poll_id)
    if not is_closed(poll):
        raise ApiError(409, "poll_open", f"poll {poll_id!r} is still open: publish it once it has closed")
    changed = _store().publish(poll_id, me().name)
    return jsonify({"poll_id": poll_id, "published": True, "changed": changed})


@bp.post("/<poll_id>/unpublish")
@login_required
@require("edit_polls")
def unpublish(poll_id: str) -> Response:
    """Take a closed poll's results off the public pages again."""
    _own_poll(poll_id)
    changed = _store().unpublish(poll_id, me().name)
    return jsonify({"poll_id": poll_id, "published": False, "changed": changed})
