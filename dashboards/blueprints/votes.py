"""Votes held as suspect (an implausible rate from one bench): the list and a reviewer's accept or reject."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from dashboards.access import login_required, me, require, scope, visible_twin
from dashboards.deps import deps
from dashboards.errors import ApiError

bp = Blueprint("votes", __name__)

DECISIONS = ("accept", "reject")


@bp.get("/api/votes/suspect")
@login_required
@require("edit_polls")
def suspect() -> Response:
    """Held votes per bench and poll within the user's municipalities."""
    return jsonify({"suspect": [g.as_doc() for g in deps().fleet.suspect_votes(scope())]})


@bp.post("/api/votes/suspect/review")
@login_required
@require("edit_polls")
def review() -> Response:
    """``{"bench_id", "poll_id", "decision": "accept"|"reject"}``: count or discard a bench's held votes for a
    poll (audit-logged); answers how many votes moved (0 if another review came first)."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    missing = sorted(k for k in ("bench_id", "poll_id", "decision") if not isinstance(body.get(k), str))
    if missing:
        raise ApiError(422, "invalid_review", f"missing or not a string: {', '.join(missing)}", fields=missing)
    decision = body["decision"]
    if decision not in DECISIONS:
        raise ApiError(422, "invalid_review", f"decision {decision!r}: use accept or reject", fields=["decision"])
    twin = visible_twin(body["bench_id"])  # 404 outside the user's municipalities
    moved = deps().fleet.review_suspect(twin.bench_id, body["poll_id"], decision, me().name)
    return jsonify({"bench_id": twin.bench_id, "poll_id": body["poll_id"], "decision": decision, "votes": moved})
