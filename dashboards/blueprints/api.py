"""The JSON API of contract section 4 (thin: look up, check access, hand to the fleet, shape the answer)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from dashboards.access import (
    changed_poll_ids,
    login_required,
    me,
    require_patch_rights,
    require_poll_ids_free,
    scope,
    visible_twin,
)
from dashboards.deps import deps
from dashboards.errors import ApiError
from dashboards.openapi import openapi_document
from dashboards.participation_model import poll_doc, results_doc, visible_poll
from dashboards.timeparams import TimeParamError, window
from dashboards.views_model import summarise, twin_document
from twins.clock import to_rfc3339
from twins.series import SERIES_FIELDS
from twins.twin import InvalidConfig, VersionConflict

bp = Blueprint("api", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Up or down for anyone; the state of broker, TSDB and database connections for operators only."""
    report = deps().fleet.health_report()
    up = all(part.get("ok") for name, part in report.items() if isinstance(part, dict))
    if current_user.is_authenticated and me().can("health"):
        return jsonify({**report, "status": "ok" if up else report.get("status", "degraded")})
    # Anonymous callers (load balancers, uptime checks) learn nothing about users, URLs or paths.
    return jsonify({"status": "up" if up else "down"})


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(deps().fleet.metrics_text(), mimetype="text/plain; version=0.0.4")


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI description of this API."""
    return jsonify(openapi_document())


@bp.get("/api/benches")
@login_required
def benches() -> Response:
    """Every visible twin, in summary."""
    fleet = deps().fleet
    now = fleet.now()
    return jsonify({"benches": [summarise(t, now).as_json() for t in fleet.list_twins(scope())]})


@bp.get("/api/benches/<bench_id>")
@login_required
def bench(bench_id: str) -> Response:
    """The whole twin; the ETag is the desired version (for If-Match)."""
    twin = visible_twin(bench_id)
    response = jsonify(twin_document(twin, deps().fleet.now()))
    response.headers["ETag"] = f'"{twin.desired_version}"'
    return response


def _if_match() -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ApiError(400, "bad_if_match", f"If-Match {raw!r}: give the desired version number, e.g. If-Match: 3")
    return int(text)


@bp.patch("/api/benches/<bench_id>/desired")
@login_required
def patch_desired(bench_id: str) -> Response:
    """JSON merge patch of the desired config with If-Match concurrency."""
    twin = visible_twin(bench_id)
    patch: Any = request.get_json(silent=True)
    if patch is None:
        raise ApiError(400, "bad_json", "the body must be a JSON merge patch (Content-Type: application/json)")
    require_patch_rights(patch)
    require_poll_ids_free(changed_poll_ids(twin, patch), twin.attributes.municipality)
    if_match = _if_match()
    try:
        twin = deps().fleet.patch_desired(bench_id, patch, if_match, actor=me().name)
    except VersionConflict as err:
        raise ApiError(412, "version_conflict", str(err), current_version=err.current) from err
    except InvalidConfig as err:
        raise ApiError(422, "invalid_config", "the desired config is invalid", fields=err.errors) from err
    response = jsonify(twin_document(twin, deps().fleet.now()))
    response.headers["ETag"] = f'"{twin.desired_version}"'
    return response


@bp.get("/api/benches/<bench_id>/series")
@login_required
def series(bench_id: str) -> Response:
    """A downsampled series of one telemetry field."""
    visible_twin(bench_id)
    field_name = request.args.get("field", "")
    if field_name not in SERIES_FIELDS:
        raise ApiError(400, "unknown_field", f"field={field_name!r}: use one of {', '.join(SERIES_FIELDS)}")
    fleet = deps().fleet
    try:
        start, end, every = window(
            request.args.get("start", "-24h"), request.args.get("end"), request.args.get("every"), fleet.now()
        )
    except TimeParamError as err:
        raise ApiError(400, "bad_time", str(err)) from err
    samples = fleet.series(bench_id, field_name, start, end, every)
    return jsonify(
        {
            "bench_id": bench_id,
            "field": field_name,
            "start": to_rfc3339(start),
            "end": to_rfc3339(end),
            "every_s": int(every.total_seconds()),
            "points": [{"ts": to_rfc3339(s.ts), "value": s.value} for s in samples],
        }
    )


@bp.get("/api/polls")
@login_required
def polls() -> Response:
    """Polls configured on visible benches."""
    return jsonify({"polls": [poll_doc(p) for p in deps().fleet.polls(scope())]})


@bp.get("/api/polls/<poll_id>/results")
@login_required
def poll_results(poll_id: str) -> Response:
    """Tallies of one poll: total, per bench, per municipality (within the caller's scope)."""
    visible_poll(poll_id, scope())
    return jsonify(results_doc(deps().fleet.poll_results(poll_id, scope())))
