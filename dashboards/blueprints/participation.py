"""Participation: poll results (live), CSV download and the poll editor for municipal staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import get_locale
from pydantic import ValidationError

from dashboards.access import login_required, me, require, require_poll_ids_free, scope
from dashboards.deps import deps
from dashboards.errors import ApiError
from dashboards.participation_data import participation_data
from dashboards.participation_model import poll_doc, results_csv, visible_poll
from dashboards.publication import is_closed, publications, published_ids
from fleet.reports.publication import Publications
from fleet.service_api import EVERYTHING, PollInfo
from twins.config import LANGUAGES, Poll
from twins.twin import InvalidConfig, VersionConflict

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
    errors: dict[str, str] = {}
    for item in err.errors(include_url=False):
        errors.setdefault(".".join(str(p) for p in item["loc"]) or "poll", item["msg"])
    return errors


def _claimer(municipality: str | None) -> str | None:
    """Who a new poll id goes to: the municipality named, the user's only one, or (an admin) the fleet."""
    if municipality:
        return municipality
    mine = scope().municipalities
    if mine is None:
        return None
    if len(mine) == 1:
        return next(iter(mine))
    raise ApiError(422, "municipality_required", "name the municipality the poll belongs to")


@bp.post("/polls")
@login_required
@require("edit_polls")
def save_poll() -> Response:
    """Add or replace a poll on every bench of a municipality (or every visible bench)."""
    body: Any = request.get_json(silent=True) or {}
    try:
        poll = Poll.model_validate(body.get("poll"), strict=False)
    except ValidationError as err:
        raise ApiError(422, "invalid_poll", "the poll is invalid", fields=_poll_field_errors(err)) from err
    municipality = body.get("municipality") or None
    if municipality and not scope().allows(municipality):
        raise ApiError(403, "forbidden", f"municipality {municipality!r} is not yours")
    require_poll_ids_free([poll.id], _claimer(municipality))
    fleet = deps().fleet
    targets = [
        t for t in fleet.list_twins(scope()) if municipality is None or t.attributes.municipality == municipality
    ]
    if not targets:
        raise ApiError(404, "no_benches", "no bench to put the poll on")
    results = []
    for twin in targets:
        polls = [p.model_dump(mode="json") for p in twin.desired.polls if p.id != poll.id]
        polls.append(poll.model_dump(mode="json"))
        try:
            updated = fleet.patch_desired(twin.bench_id, {"polls": polls}, twin.desired_version, actor=me().name)
            results.append(
                {"bench_id": twin.bench_id, "version": updated.desired_version, "state": updated.config_state()}
            )
        except (VersionConflict, InvalidConfig) as err:
            results.append(
                {"bench_id": twin.bench_id, "version": twin.desired_version, "state": "failed", "error": str(err)}
            )
    return jsonify({"poll_id": poll.id, "results": results})


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
