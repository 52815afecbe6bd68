"""Read-only results for citizens: no login, aggregate figures only; 404 unless switched on.

A closed poll shows here only once published (dashboards.publication); the open-data export holds only those.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template
from flask_babel import get_locale

from dashboards.deps import deps
from dashboards.open_data import OPEN_DATA_FILE, open_data_csv, open_data_doc
from dashboards.participation_data import participation_data
from dashboards.participation_model import poll_doc, public_results_doc
from dashboards.publication import LICENCE, public_poll, public_polls
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
    polls = [_public(poll_doc(p, str(get_locale()))) for p in public_polls()]
    return render_template("participation.html", polls=polls, public=True, can_edit=False, licence=LICENCE)


@bp.get("/participation/<poll_id>/data.json")
def data(poll_id: str) -> Response:
    """Aggregate tallies and charts."""
    poll = public_poll(poll_id)
    return jsonify(participation_data(deps().fleet, poll, EVERYTHING, str(get_locale()), public=True))


@bp.get("/api/polls")
def polls() -> Response:
    """Polls (texts in every language)."""
    return jsonify({"polls": [_public(poll_doc(p)) for p in public_polls()]})


@bp.get("/api/polls/<poll_id>/results")
def results(poll_id: str) -> Response:
    """Total and per-municipality tallies."""
    public_poll(poll_id)
    return jsonify(public_results_doc(deps().fleet.poll_results(poll_id, EVERYTHING)))


@bp.get("/open-data/polls.json")
def open_data_json() -> Response:
    """Published polls' results per bench and municipality, as JSON (licence CC BY 4.0 stated inside)."""
    response = jsonify(open_data_doc())
    response.headers["Content-Disposition"] = f'attachment; filename="{OPEN_DATA_FILE}.json"'
    return response


@bp.get("/open-data/polls.csv")
def open_data_csv_file() -> Response:
    """The same rows as CSV (a licence column on every row)."""
    return Response(
        open_data_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{OPEN_DATA_FILE}.csv"'},
    )
