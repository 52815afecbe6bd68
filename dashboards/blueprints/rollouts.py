"""Rollouts in waves (contract section 5): start one, follow it, pause, resume, abort or roll it back; a page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from dashboards.access import login_required, me, scope
from dashboards.deps import deps
from dashboards.errors import ApiError
from fleet.ops.firmware import by_version, inventory
from fleet.ops.releases import ReleaseRefused, ReleaseStore
from fleet.ops.rollout_model import Rollout, RolloutConflict, RolloutRefused, RolloutRequest
from fleet.ops.rollouts import RolloutService

bp = Blueprint("rollouts", __name__)

#: Who may start and steer rollouts: the roles that may change configuration (admin and maintenance).
#: Municipality users are refused (403): they may not change bench configuration at all.
ROLLOUT_PERMISSION = "configure"
ACTIONS = ("pause", "resume", "abort", "rollback")


def _service() -> RolloutService:
    found: Any = getattr(deps().fleet, "rollouts", None)
    if not isinstance(found, RolloutService):
        raise ApiError(503, "rollouts_unavailable", "rollouts are not wired in this process")
    return found


def _visible(rollout: Rollout) -> bool:
    """A rollout is visible when every one of its benches is within the caller's scope."""
    allowed = scope().municipalities
    return allowed is None or _service().municipalities_of(rollout) <= allowed


def _rollout(rollout_id: str) -> Rollout:
    found = _service().get(rollout_id)
    if found is None or not _visible(found):
        raise ApiError(404, "unknown_rollout", f"no rollout {rollout_id!r}")
    return found


def _may_steer() -> None:
    if not me().can(ROLLOUT_PERMISSION):
        raise ApiError(403, "forbidden", f"role {me().role} may not start or steer rollouts")


@bp.post("/api/rollouts")
@login_required
def create() -> tuple[Response, int]:
    """Start a config rollout; 202 with the rollout (its benches queued by wave; the scheduler sends them)."""
    _may_steer()
    try:
        rollout = _service().create(RolloutRequest.from_json(request.get_json(silent=True)), me().name, scope())
    except RolloutRefused as err:
        raise ApiError(400, "bad_rollout", str(err)) from err
    response = jsonify(rollout.as_json())
    response.headers["Location"] = url_for("rollouts.show", rollout_id=rollout.id)
    return response, 202


@bp.get("/api/rollouts")
@login_required
def recent() -> Response:
    """The latest rollouts, newest first (without per-bench detail)."""
    service = _service()
    found = [service.get(r.id) for r in service.recent()]
    return jsonify({"rollouts": [_summary(r) for r in found if r is not None and _visible(r)]})


def _summary(rollout: Rollout) -> dict[str, Any]:
    doc = rollout.as_json()
    doc.pop("benches")
    return doc


@bp.get("/api/rollouts/<rollout_id>")
@login_required
def show(rollout_id: str) -> Response:
    """One rollout with every bench's state."""
    return jsonify(_rollout(rollout_id).as_json())


@bp.post("/api/rollouts/<rollout_id>/<action>")
@login_required
def act(rollout_id: str, action: str) -> Response:
    """Pause, resume, abort or roll back; 409 when the rollout's status does not allow it."""
    if action not in ACTIONS:
        raise ApiError(404, "unknown_action", f"no rollout action {action!r}: use one of {', '.join(ACTIONS)}")
    _rollout(rollout_id)
    _may_steer()
    try:
        return jsonify(_service().act(rollout_id, action, me().name).as_json())
    except RolloutConflict as err:
        raise ApiError(409, "rollout_conflict", str(err)) from err
    except KeyError as err:
        raise ApiError(404, "unknown_rollout", f"no rollout {rollout_id!r}") from err


@bp.get("/api/firmware")
@login_required
def firmware() -> Response:
    """Which firmware version runs where (from the twins' reported firmware), within the caller's scope."""
    rows = inventory(deps().fleet.list_twins(scope()))
    return jsonify({"versions": by_version(rows), "benches": [r.as_json() for r in rows]})


def _releases() -> ReleaseStore:
    found = _service().releases
    if found is None:
        raise ApiError(503, "releases_unavailable", "firmware releases are not wired in this process")
    return found


@bp.post("/api/firmware/releases")
@login_required
def register_release() -> tuple[Response, int]:
    """Register a signed release (artifact hosted at ``url``) for one bench model; answers it."""
    _may_steer()
    try:
        release = _releases().register(request.get_json(silent=True), me().name)
    except ReleaseRefused as err:
        raise ApiError(400, "bad_release", str(err)) from err
    return jsonify(release.as_json()), 200


@bp.get("/api/firmware/releases")
@login_required
def releases() -> Response:
    """Every registered release, newest first."""
    return jsonify({"releases": [r.as_json() for r in _releases().all()]})


@bp.get("/rollouts")
@login_required
def page() -> str:
    """The latest rollouts; the one picked with ``?id=`` in detail, with its buttons."""
    service = _service()
    listed = [r for r in (service.get(x.id) for x in service.recent()) if r is not None and _visible(r)]
    picked = next((r for r in listed if r.id == request.args.get("id")), listed[0] if listed else None)
    return render_template(
        "rollouts.html", rollouts=listed, picked=picked, actions=ACTIONS, may_steer=me().can(ROLLOUT_PERMISSION)
    )
