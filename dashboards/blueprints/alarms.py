"""Alarms in the dashboard: the alarms page, ``/api/alerts`` with acknowledge and assign (contract section 5),
recipients and thresholds, and the live ``alert`` event (once per alarm transition, to whoever may see it)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask_socketio import SocketIO

from dashboards.access import login_required, me, require, scope
from dashboards.deps import deps
from dashboards.errors import ApiError
from dashboards.live import ALL_ROOM, Emit, municipality_room
from fleet.ops.alarm_model import Alarm, Transition, iso
from fleet.ops.alarms import ALARM_STATES, AlarmConflict, AlarmFilter, AlarmNotFound, AlarmStore
from fleet.ops.notify import RecipientStore
from twins.alarm_rules import RULES, SEVERITIES

log = logging.getLogger(__name__)

bp = Blueprint("alarms", __name__)
_EXT = "benchfleet.alarms"
_NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class AlarmDeps:
    """What the alarm routes use (``app.extensions["benchfleet.alarms"]``)."""

    store: AlarmStore
    recipients: RecipientStore


def install(app: Flask, socketio: SocketIO, store: AlarmStore | None, interval_s: float = 1.0) -> AlarmAnnouncer | None:
    """Register the blueprint; with a store, serve alarms from it and announce its transitions live."""
    app.register_blueprint(bp)
    if store is None:
        return None  # the routes answer 503: this app has no fleet database (a bare test app)
    app.extensions[_EXT] = AlarmDeps(store, RecipientStore(store.engine))
    announcer = AlarmAnnouncer(store, lambda event, data, room: socketio.emit(event, data, to=room), interval_s)
    app.extensions["benchfleet"].live.add_companion(announcer)  # started with the live bridge by the composition root
    app.extensions[_EXT + ".announcer"] = announcer
    return announcer


def _deps() -> AlarmDeps:
    found: AlarmDeps | None = current_app.extensions.get(_EXT)
    if found is None:
        raise ApiError(503, "alarms_unavailable", "this server keeps no alarms (no fleet database)")
    return found


def _number(text: str, what: str) -> int:
    # Ids are integers; anything else names no alarm (404, as an unknown id would).
    if not text.isdigit():
        raise ApiError(404, f"unknown_{what}", f"no {what} {text!r}")
    return int(text)


def _visible(alarm_text: str) -> Alarm:
    alarm_id = _number(alarm_text, "alert")
    try:
        alarm = _deps().store.get(alarm_id)
    except AlarmNotFound as err:
        raise ApiError(404, "unknown_alert", str(err)) from err
    if not scope().allows(alarm.municipality):
        # The same answer as a missing alert: no oracle for other towns' alarm ids (issue 8).
        raise ApiError(404, "unknown_alert", f"no alert {alarm_id}")
    return alarm


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise ApiError(400, f"bad_{name}", f"{name}={value!r}: use one of {', '.join(allowed)}")
    return value


def _filter() -> AlarmFilter:
    limit_text = request.args.get("limit", "500")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 5000:
        raise ApiError(400, "bad_limit", f"limit={limit_text!r}: give a number from 1 to 5000")
    return AlarmFilter(
        municipalities=scope().municipalities,
        state=_choice("state", ALARM_STATES),
        severity=_choice("severity", SEVERITIES),
        municipality=request.args.get("municipality") or None,
        bench_id=request.args.get("bench_id") or None,
        limit=int(limit_text),
    )


def _text_field(body: Any, name: str, *, required: bool, max_len: int) -> str:
    value = body.get(name, None if required else "") if isinstance(body, dict) else None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        need = "a non-empty string" if required else "a string"
        raise ApiError(400, f"bad_{name}", f"{name}: give {need} of at most {max_len} characters")
    return value.strip()


# --- the page ---------------------------------------------------------------------------------------


@bp.get("/alarms")
@login_required
def page() -> str:
    """The alarms page: filters, the list, acknowledge and assign."""
    municipalities = sorted({t.attributes.municipality for t in deps().fleet.list_twins(scope())})
    return render_template(
        "alarms.html", states=ALARM_STATES, severities=SEVERITIES, municipalities=municipalities, rules=RULES
    )


# --- contract section 5 -----------------------------------------------------------------------------


@bp.get("/api/alerts")
@login_required
def alerts() -> Response:
    """Alarms of the caller's benches: ``?state=&severity=&municipality=&bench_id=&limit=``."""
    found = _deps().store.search(_filter())
    return jsonify({"alerts": [a.as_json() for a in found]})


@bp.get("/api/alerts/<alarm_id>")
@login_required
def alert(alarm_id: str) -> Response:
    """One alarm with its full history."""
    alarm = _visible(alarm_id)
    history = [_transition(t) for t in _deps().store.history(alarm.id)]
    return jsonify({**alarm.as_json(), "history": history})


@bp.post("/api/alerts/<alarm_id>/ack")
@login_required
def acknowledge(alarm_id: str) -> Response:
    """Acknowledge an active alarm with a comment (who and when are recorded)."""
    target = _visible(alarm_id)
    comment = _text_field(request.get_json(silent=True), "comment", required=False, max_len=2000)
    try:
        alarm = _deps().store.acknowledge(target.id, me().name, comment, deps().fleet.now())
    except AlarmConflict as err:
        raise ApiError(409, "alert_state", str(err)) from err
    return jsonify(alarm.as_json())


@bp.post("/api/alerts/<alarm_id>/assign")
@login_required
def assign(alarm_id: str) -> Response:
    """Assign an alarm that is not cleared to someone."""
    target = _visible(alarm_id)
    assignee = _text_field(request.get_json(silent=True), "assignee", required=True, max_len=_NAME_MAX)
    try:
        alarm = _deps().store.assign(target.id, assignee, me().name, deps().fleet.now())
    except AlarmConflict as err:
        raise ApiError(409, "alert_state", str(err)) from err
    return jsonify(alarm.as_json())


# --- routing and thresholds (admin and maintenance) --------------------------------------------------


@bp.get("/api/alert-recipients")
@login_required
@require("alerts")
def recipients() -> Response:
    """Who is notified of which alarms."""
    return jsonify({"recipients": [r.as_json() for r in _deps().recipients.all()]})


@bp.post("/api/alert-recipients")
@login_required
@require("alerts")
def add_recipient() -> Response:
    """Add a recipient: ``{"municipality", "min_severity", "channel": "email"|"webhook", "address", "escalation"}``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    try:
        added = _deps().recipients.add(
            str(body.get("municipality", "")),
            str(body.get("min_severity", "warning")),
            str(body.get("channel", "")),
            str(body.get("address", "")),
            escalation=bool(body.get("escalation", False)),
        )
    except ValueError as err:
        raise ApiError(422, "invalid_recipient", str(err)) from err
    return jsonify(added.as_json())


@bp.delete("/api/alert-recipients/<recipient_id>")
@login_required
@require("alerts")
def remove_recipient(recipient_id: str) -> Response:
    """Remove a recipient."""
    number = _number(recipient_id, "recipient")
    if not _deps().recipients.remove(number):
        raise ApiError(404, "unknown_recipient", f"no recipient {number}")
    return jsonify({"removed": number})


@bp.put("/api/alert-thresholds")
@login_required
@require("configure")
def set_threshold() -> Response:
    """Override one threshold: ``{"scope": "municipality"|"bench", "target", "name", "value"}`` (null drops it)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    value = body.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ApiError(422, "invalid_threshold", "value: give a number, or null to drop the override")
    try:
        _deps().store.set_threshold(body.get("scope"), str(body.get("target", "")), str(body.get("name", "")), value)  # type: ignore[arg-type]
    except ValueError as err:
        raise ApiError(422, "invalid_threshold", str(err)) from err
    return jsonify({"scope": body.get("scope"), "target": body.get("target"), "name": body.get("name"), "value": value})


def _transition(t: Transition) -> dict[str, Any]:
    return {"at": iso(t.at), "action": t.action, "actor": t.actor, "detail": t.detail}


# --- live -------------------------------------------------------------------------------------------


class AlarmAnnouncer:
    """Emits the live ``alert`` event once per alarm transition, whichever process made it: transitions are
    claimed in SQL (one conditional UPDATE each), so of several dashboard processes exactly one emits."""

    def __init__(self, store: AlarmStore, emit: Emit, interval_s: float) -> None:
        self._store = store
        self._emit = emit
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.task: Any = None

    def announce_once(self) -> int:
        """Emit every unannounced transition; returns how many."""
        claimed = self._store.claim_unannounced()
        for transition, alarm in claimed:
            data = {
                "transition": transition.action,
                "actor": transition.actor,
                "at": iso(transition.at),
                **alarm.as_json(),
            }
            self._emit("alert", data, municipality_room(alarm.municipality))
            self._emit("alert", data, ALL_ROOM)
        return len(claimed)

    def run(self) -> None:
        """Announce until stopped (a database hiccup is logged, never ends the loop)."""
        while not self._stop.is_set():
            try:
                self.announce_once()
            except Exception:
                log.exception("announcing alarms failed")
            self._stop.wait(self._interval_s)

    def start(self, socketio: SocketIO) -> None:
        """Run the loop as a Socket.IO background task."""
        self.task = socketio.start_background_task(self.run)

    def stop(self) -> None:
        """End the loop."""
        self._stop.set()
        if self.task is not None:
            self.task.join(timeout=5)
