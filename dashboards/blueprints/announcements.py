"""Announcements: short notices a municipality publishes to its own benches' kiosks, in bs, hr and sr.

They travel in the desired config (``announcements``), so a bench shows them offline too, between start and end.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers.response import Response as WerkzeugResponse

from dashboards.access import login_required, me, require, scope
from dashboards.deps import deps
from dashboards.errors import ApiError
from twins.config import ANNOUNCEMENT_LANGUAGES, LANGUAGES, Announcement
from twins.twin import InvalidConfig, Twin, VersionConflict

bp = Blueprint("announcements", __name__, url_prefix="/announcements")
FORM_TIME = "%Y-%m-%dT%H:%M"
DEFAULT_SPAN = timedelta(days=7)


def _targets(municipality: str | None) -> list[Twin]:
    """The user's benches (of ``municipality``, if given); another town's is refused."""
    if municipality and not scope().allows(municipality):
        raise ApiError(403, "forbidden", f"municipality {municipality!r} is not yours")
    twins = deps().fleet.list_twins(scope())
    return [t for t in twins if municipality is None or t.attributes.municipality == municipality]


def _publish(targets: list[Twin], change: Any) -> list[dict[str, Any]]:
    """Replace each bench's announcements by ``change(current, now)``; one result per bench."""
    fleet = deps().fleet
    now = fleet.now()
    results = []
    for twin in targets:
        items = [a.model_dump(mode="json") for a in change(list(twin.desired.announcements), now)]
        try:
            updated = fleet.patch_desired(twin.bench_id, {"announcements": items}, twin.desired_version, me().name)
            results.append({"bench_id": twin.bench_id, "version": updated.desired_version, "state": "pending"})
        except (VersionConflict, InvalidConfig) as err:
            results.append({"bench_id": twin.bench_id, "state": "failed", "error": str(err)})
    return results


def _add(announcement: Announcement) -> Any:
    def change(current: list[Announcement], now: datetime) -> list[Announcement]:
        # Ended ones are dropped here, so the list (at most 10 on a bench) holds what is still to be shown.
        kept = [a for a in current if a.ends > now and a.id != announcement.id]
        return [*kept, announcement]

    return change


def _parse(body: dict[str, Any]) -> Announcement:
    """An announcement from the API's JSON or the form; 422 naming each wrong field."""
    body = {"id": f"a{secrets.token_hex(4)}", **body}
    try:
        return Announcement.model_validate(body, strict=False)
    except ValidationError as err:
        fields = {".".join(str(p) for p in e["loc"]) or "announcement": e["msg"] for e in err.errors(include_url=False)}
        raise ApiError(422, "invalid_announcement", "the announcement is invalid", fields=fields) from err


@bp.get("")
@login_required
@require("edit_polls")
def page() -> str:
    """The form and the announcements on the user's benches."""
    twins = deps().fleet.list_twins(scope())
    now = deps().fleet.now()
    shown: dict[str, tuple[Announcement, list[str]]] = {}
    for twin in twins:
        for a in twin.desired.announcements:
            shown.setdefault(a.id, (a, []))[1].append(twin.bench_id)
    return render_template(
        "announcements.html",
        municipalities=sorted({t.attributes.municipality for t in twins}),
        languages=LANGUAGES,
        required=ANNOUNCEMENT_LANGUAGES,
        announcements=sorted(shown.values(), key=lambda item: item[0].starts),
        starts=now.strftime(FORM_TIME),
        ends=(now + DEFAULT_SPAN).strftime(FORM_TIME),
        now=now,
    )


@bp.post("")
@login_required
@require("edit_polls")
def publish() -> WerkzeugResponse | tuple[Response, int]:
    """Publish to the user's benches of a municipality: JSON ``{municipality, text: {bs, hr, sr}, starts, ends}``,
    or the page's form (times in UTC)."""
    if request.is_json:
        body: Any = request.get_json(silent=True) or {}
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "send a JSON object")
        municipality = body.pop("municipality", None) or None
        announcement = _parse(body)
    else:
        form = request.form
        municipality = form.get("municipality") or None
        texts = {lang: form.get(f"text.{lang}", "").strip() for lang in LANGUAGES}
        text = {lang: words for lang, words in texts.items() if words}
        announcement = _parse(
            {"text": text, "starts": f"{form.get('starts', '')}:00Z", "ends": f"{form.get('ends', '')}:00Z"}
        )
    targets = _targets(municipality)
    if not targets:
        raise ApiError(404, "no_benches", _("no bench to publish the announcement to"))
    results = _publish(targets, _add(announcement))
    if request.is_json:
        return jsonify({"id": announcement.id, "results": results}), 201
    return redirect(url_for("announcements.page"))


@bp.post("/<announcement_id>/remove")
@login_required
@require("edit_polls")
def remove(announcement_id: str) -> WerkzeugResponse:
    """Take an announcement off every bench of the user's that carries it."""
    targets = [t for t in _targets(None) if any(a.id == announcement_id for a in t.desired.announcements)]
    if not targets:
        raise ApiError(404, "not_found", f"no announcement {announcement_id!r} on your benches")
    _publish(targets, lambda current, _now: [a for a in current if a.id != announcement_id])
    if request.is_json:
        return jsonify({"id": announcement_id, "removed_from": [t.bench_id for t in targets]})
    return redirect(url_for("announcements.page"))
