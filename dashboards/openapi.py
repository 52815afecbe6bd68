"""The OpenAPI 3.1 description of the JSON API (a test checks it against the app's routes)."""

from __future__ import annotations

from typing import Any

from dashboards.openapi_ops import ops_paths
from dashboards.openapi_rollouts import rollout_paths
from dashboards.openapi_votes import votes_paths
from twins.series import SERIES_FIELDS

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_BENCH_ID = {"name": "bench_id", "in": "path", "required": True, "schema": {"type": "string"}}
_POLL_ID = {"name": "poll_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def _get(summary: str, *, public: bool = False, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": params or [],
        "responses": {"200": _ok(summary)},
    }
    if public:
        op["security"] = []
    else:
        op["responses"].update({"401": _ERROR, "403": _ERROR, "404": _ERROR})
    return op


_ALARM_ID = {"name": "alarm_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _post(summary: str, body: dict[str, Any], params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op = _get(summary, params=params)
    op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    op["responses"].update({"400": _ERROR, "409": _ERROR, "422": _ERROR})
    return op


def _alarm_paths() -> dict[str, Any]:
    """Contract section 5: alarms (dashboards/blueprints/alarms.py)."""
    text = {"type": "string"}
    filters = [
        {"name": n, "in": "query", "schema": {"type": "string"}}
        for n in ("state", "severity", "municipality", "bench_id")
    ]
    recipient = {
        "type": "object",
        "required": ["municipality", "channel", "address"],
        "properties": {
            "municipality": text,
            "min_severity": {"enum": ["critical", "major", "minor", "warning"]},
            "channel": {"enum": ["email", "webhook"]},
            "address": text,
            "escalation": {"type": "boolean"},
        },
    }
    threshold = {
        "type": "object",
        "properties": {"scope": {"enum": ["municipality", "bench"]}, "target": text, "name": text, "value": {}},
    }
    put = _post("Override one alarm threshold for a municipality or a bench (value null drops it)", threshold)
    return {
        "/api/alerts": {
            "get": _get("Alarms of the caller's benches (state, severity, municipality, bench_id)", params=filters)
        },
        "/api/alerts/{alarm_id}": {"get": _get("One alarm with its full history", params=[_ALARM_ID])},
        "/api/alerts/{alarm_id}/ack": {
            "post": _post(
                "Acknowledge an active alarm", {"type": "object", "properties": {"comment": text}}, [_ALARM_ID]
            )
        },
        "/api/alerts/{alarm_id}/assign": {
            "post": _post("Assign an alarm", {"type": "object", "properties": {"assignee": text}}, [_ALARM_ID])
        },
        "/api/alert-recipients": {
            "get": _get("Notification recipients (routing per municipality and severity)"),
            "post": _post("Add a notification recipient", recipient),
        },
        "/api/alert-recipients/{recipient_id}": {
            "delete": _get(
                "Remove a recipient",
                params=[{"name": "recipient_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            )
        },
        "/api/alert-thresholds": {"put": put},
    }


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    patch = {
        "summary": "Merge-patch (RFC 7386) the desired config; pushed to the bench as a retained message",
        "parameters": [
            _BENCH_ID,
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": "desired version the patch is based on (the ETag of GET /api/benches/{bench_id})",
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {"required": True, "content": {"application/merge-patch+json": {"schema": {"type": "object"}}}},
        "responses": {
            "200": _ok("the twin after the patch; ETag = new desired version"),
            "400": _ERROR,
            "401": _ERROR,
            "403": _ERROR,
            "404": _ERROR,
            "412": _ERROR,
            "422": {
                "description": "invalid config; error.fields maps each bad field path to a message",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    series_params: list[dict[str, Any]] = [
        _BENCH_ID,
        {"name": "field", "in": "query", "required": True, "schema": {"type": "string", "enum": list(SERIES_FIELDS)}},
        {"name": "start", "in": "query", "schema": {"type": "string", "default": "-24h"}},
        {"name": "end", "in": "query", "schema": {"type": "string", "default": "now"}},
        {"name": "every", "in": "query", "schema": {"type": "string", "example": "5m"}},
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "BenchFleet API",
            "version": "1",
            "description": (
                "Digital twins of solar smart benches. Authenticate with a session cookie (browser; state-changing "
                "requests need the X-CSRFToken header) or Authorization: Bearer <token> (benchfleet token create). "
                "Live updates are Socket.IO events: twin (batched, at most 2 per bench per second), alert (once "
                "per alarm transition), health, config_status, vote."
            ),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                        }
                    },
                }
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/healthz": {"get": _get("State of broker, TSDB and database connections", public=True)},
            "/metrics": {
                "get": _get("Prometheus text format: messages in, rejected by reason, written, lag", public=True)
            },
            "/api/openapi.json": {"get": _get("This document", public=True)},
            "/api/benches": {"get": _get("Every twin the caller may see, in summary")},
            "/api/benches/{bench_id}": {
                "get": _get("The whole twin (ETag = desired version)", params=[_BENCH_ID]),
            },
            "/api/benches/{bench_id}/desired": {"patch": patch},
            "/api/benches/{bench_id}/series": {
                "get": _get("A downsampled time series (mean per bucket) from the TSDB", params=series_params)
            },
            "/api/polls": {"get": _get("Polls on the benches the caller may see")},
            "/api/polls/{poll_id}/results": {
                "get": _get("Tallies of a poll: total, per bench, per municipality", params=[_POLL_ID])
            },
            **_alarm_paths(),
            "/public/api/polls": {
                "get": _get("Polls, for citizens (only if public results are switched on)", public=True)
            },
            "/public/api/polls/{poll_id}/results": {
                "get": _get("Aggregate tallies (total, per municipality) for citizens", public=True, params=[_POLL_ID])
            },
            **ops_paths(),
            **votes_paths(),
            **rollout_paths(),
        },
    }
