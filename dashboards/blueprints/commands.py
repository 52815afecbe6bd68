"""Commands to a bench (contract section 5): send one, follow it, list a bench's latest."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from dashboards.access import login_required, me, scope
from dashboards.deps import deps
from dashboards.errors import ApiError
from fleet.ops.commands import CommandRefused
from twins.twin import Twin

bp = Blueprint("commands", __name__)

#: Who may command a bench: the roles that may change its configuration (admin and maintenance).
COMMAND_PERMISSION = "configure"


def bench_in_scope(bench_id: str) -> Twin:
    """The twin, or 404 alike for an unknown bench and one outside the caller's scope (its existence is not told)."""
    twin = deps().fleet.get_twin(bench_id)
    if twin is None or not scope().allows(twin.attributes.municipality):
        raise ApiError(404, "unknown_bench", f"no bench {bench_id!r}")
    return twin


def _command_body() -> tuple[str, dict[str, Any]]:
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", 'the body must be a JSON object like {"name": "ping", "args": {}}')
    name, args = body.get("name"), body.get("args", {})
    if not isinstance(name, str) or not name:
        raise ApiError(400, "bad_command", "name: give the command name (ping, self_test or reboot)", fields=["name"])
    if not isinstance(args, dict):
        raise ApiError(400, "bad_command", "args: must be a JSON object", fields=["args"])
    return name, args


@bp.post("/api/benches/<bench_id>/commands")
@login_required
def send(bench_id: str) -> tuple[Response, int]:
    """Send a command; 202 with its id (the bench answers asynchronously)."""
    bench_in_scope(bench_id)
    if not me().can(COMMAND_PERMISSION):
        raise ApiError(403, "forbidden", f"role {me().role} may not send commands")
    name, args = _command_body()
    try:
        record = deps().fleet.send_command(bench_id, name, args, actor=me().name)
    except CommandRefused as err:
        raise ApiError(400, "bad_command", str(err), fields=["name"]) from err
    except KeyError as err:
        raise ApiError(404, "unknown_bench", f"no bench {bench_id!r}") from err
    response = jsonify({"id": record.id, "status": record.status})
    response.headers["Location"] = url_for("commands.show", command_id=record.id)
    return response, 202


@bp.get("/api/commands/<command_id>")
@login_required
def show(command_id: str) -> Response:
    """One command and how it went (404 for one of a bench outside the caller's scope)."""
    record = deps().fleet.get_command(command_id)
    if record is None:
        raise ApiError(404, "unknown_command", f"no command {command_id!r}")
    twin = deps().fleet.get_twin(record.bench_id)
    if twin is None or not scope().allows(twin.attributes.municipality):
        raise ApiError(404, "unknown_command", f"no command {command_id!r}")
    return jsonify(record.as_json())


@bp.get("/api/benches/<bench_id>/commands")
@login_required
def recent(bench_id: str) -> Response:
    """The bench's latest commands, newest first."""
    bench_in_scope(bench_id)
    return jsonify({"commands": [c.as_json() for c in deps().fleet.recent_commands(bench_id)]})
