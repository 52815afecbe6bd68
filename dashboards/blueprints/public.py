"""Read-only results for citizens: no login, aggregate figures only; 404 unless switched on."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template
from flask_babel import get_locale

from dashboards.deps import deps
from dashboards.participation_data import participation_data
from dashboards.participation_model import poll_doc, public_results_doc, visible_poll
from fleet.service_api import EVERYTHING

bp = Blueprint("public", __name__, url_prefix="/public")


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    # Citizens see municipalities, not which bench carries a poll.
    doc.pop("bench_ids", None)
    return doc


@bp.before_request
def _switched_on() -> None:
    if not deps().config.public_results:
        abort(404)


@bp.get("/participation")
def page() -> str:
    """Poll results for citizens."""
    polls = [_public(poll_doc(p, str(get_locale()))) for p in deps().fleet.polls(EVERYTHING)]
    return render_template("participation.html", polls=polls, public=True, can_edit=False)


@bp.get("/participation/<poll_id>/data.json")
def data(poll_id: str) -> Response:
    """Aggregate tallies and charts."""
    poll = visible_poll(poll_id, EVERYTHING)
    return jsonify(participation_data(deps().fleet, poll, EVERYTHING, str(get_locale()), public=True))


@bp.get("/api/polls")
def polls() -> Response:
    """Polls (texts in every language)."""
    return jsonify({"polls": [_public(poll_doc(p)) for p in deps().fleet.polls(EVERYTHING)]})


@bp.get("/api/polls/<poll_id>/results")
def results(poll_id: str) -> Response:
    """Total and per-municipality tallies."""
    visible_poll(poll_id, EVERYTHING)
    return jsonify(public_results_doc(deps().fleet.poll_results(poll_id, EVERYTHING)))
