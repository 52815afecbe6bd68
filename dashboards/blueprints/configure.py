"""The configuration page: edit the desired config of a bench, a municipality or the whole fleet, push, watch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from pydantic import ValidationError

from dashboards.access import login_required, me, require, scope, visible_twin
from dashboards.config_form import (
    FIELDS,
    SECTION_LABELS,
    bounds,
    build_patch,
    common_values,
    current_values,
    field_label,
)
from dashboards.config_messages import in_words, parse_errors_in_words
from dashboards.deps import deps
from dashboards.errors import ApiError
from twins.twin import InvalidConfig, Twin, VersionConflict, patch_desired

bp = Blueprint("configure", __name__, url_prefix="/config")


@bp.get("")
@login_required
@require("configure")
def page() -> str:
    """The form, prefilled from the chosen (or first) bench."""
    twins = deps().fleet.list_twins(scope())
    chosen = request.args.get("bench") or (twins[0].bench_id if twins else None)
    values = current_values(visible_twin(chosen).desired) if chosen else {}
    counts: dict[str, int] = {}
    for t in twins:
        counts[t.attributes.municipality] = counts.get(t.attributes.municipality, 0) + 1
    return render_template(
        "config.html",
        fields=FIELDS,
        limits={f.path: bounds(f.path) for f in FIELDS},
        labels={path: field_label(path) for path in (*SECTION_LABELS, *(f.path for f in FIELDS))},
        values=values,
        twins=twins,
        municipalities=sorted(counts),
        counts=counts,
        chosen=chosen,
    )


@bp.get("/values.json")
@login_required
@require("configure")
def values() -> Response:
    """Form values and desired version of one bench."""
    twin = visible_twin(request.args.get("bench", ""))
    return jsonify({"bench_id": twin.bench_id, "version": twin.desired_version, "values": current_values(twin.desired)})


@bp.get("/common.json")
@login_required
@require("configure")
def common() -> Response:
    """The values shared by every bench of a municipality or the fleet, and the fields where they differ."""
    kind = request.args.get("target", "fleet")
    twins = _targets(kind, request.args.get("name", ""))
    shared, mixed = common_values([t.desired for t in twins])
    return jsonify({"target": kind, "benches": len(twins), "values": shared, "mixed": mixed})


def _targets(kind: str, name: str) -> list[Twin]:
    twins = deps().fleet.list_twins(scope())
    chosen: dict[str, list[Twin]] = {
        "bench": [t for t in twins if t.bench_id == name],
        "municipality": [t for t in twins if t.attributes.municipality == name],
        "fleet": twins,
    }
    if kind not in chosen:
        raise ApiError(400, "bad_target", f"target {kind!r}: use bench, municipality or fleet")
    if kind == "bench":
        visible_twin(name)  # 404 / 403 with the right message
    if not chosen[kind]:
        raise ApiError(404, "no_benches", f"no visible bench in {kind} {name!r}")
    return chosen[kind]


@bp.post("/push")
@login_required
@require("configure")
def push() -> Response:
    """Validate the form against the contract models (422 with field errors), then patch every target."""
    body: Any = request.get_json(silent=True) or {}
    patch, parse_errors = build_patch(body.get("values") or {})
    errors = parse_errors_in_words(parse_errors)
    if not patch and not errors:
        raise ApiError(400, "nothing_changed", "change at least one field before pushing")
    targets = _targets(str(body.get("target", "")), str(body.get("name", "")))
    fleet = deps().fleet
    # Validate once on the first target so a bad form changes nothing anywhere; the fields that parsed are
    # checked against the model too, so the form shows every error at once.
    if patch:
        try:
            patch_desired(targets[0], patch, fleet.now())
        except InvalidConfig as err:
            cause = err.__cause__
            errors = {**(in_words(cause) if isinstance(cause, ValidationError) else err.errors), **errors}
    if errors:
        raise ApiError(422, "invalid_config", "some fields are invalid", fields=errors)
    results = []
    for twin in targets:
        try:
            updated = fleet.patch_desired(twin.bench_id, patch, None, actor=me().name)
            results.append(
                {"bench_id": twin.bench_id, "version": updated.desired_version, "state": updated.config_state()}
            )
        except (InvalidConfig, VersionConflict, KeyError) as err:
            results.append(
                {"bench_id": twin.bench_id, "version": twin.desired_version, "state": "failed", "error": str(err)}
            )
    return jsonify({"results": results})
