"""OpenAPI paths of commands and the audit log (merged into dashboards.openapi's document)."""

from __future__ import annotations

from typing import Any

from fleet.ops.commands import TIMEOUTS

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_BENCH_ID = {"name": "bench_id", "in": "path", "required": True, "schema": {"type": "string"}}
_COMMAND = {
    "type": "object",
    "required": ["id", "bench_id", "name", "status", "result", "sent_at", "finished_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "bench_id": {"type": "string"},
        "name": {"type": "string", "enum": list(TIMEOUTS)},
        "status": {"type": "string", "enum": ["sent", "succeeded", "failed", "timed_out"]},
        "result": {"type": ["object", "null"]},
        "error": {"type": ["string", "null"]},
        "actor": {"type": "string"},
        "sent_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
_AUDIT_FILTERS: list[dict[str, Any]] = [
    {"name": "since", "in": "query", "schema": {"type": "string", "example": "-7d"}},
    {"name": "actor", "in": "query", "schema": {"type": "string"}},
    {"name": "bench_id", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 500, "minimum": 1, "maximum": 5000}},
]


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    return dict.fromkeys(codes, _ERROR)


def ops_paths() -> dict[str, Any]:
    """Paths of contract section 5 for commands and the audit log."""
    send = {
        "summary": "Send a command (admin, maintenance); the bench answers later: follow GET /api/commands/{id}",
        "parameters": [_BENCH_ID],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string", "enum": list(TIMEOUTS)}, "args": {"type": "object"}},
                    }
                }
            },
        },
        "responses": {
            "202": _json(
                "sent", {"type": "object", "properties": {"id": {"type": "string"}, "status": {"const": "sent"}}}
            ),
            **_errors("400", "401", "403", "404"),
        },
    }
    listed = {"type": "object", "properties": {"commands": {"type": "array", "items": _COMMAND}}}
    entries = {
        "type": "object",
        "properties": {
            "entries": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["at", "actor", "action", "target", "before", "after"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "actor": {"type": "string"},
                        "action": {"type": "string"},
                        "target": {"type": "string"},
                        "bench_id": {"type": ["string", "null"]},
                        "before": {},
                        "after": {},
                    },
                },
            }
        },
    }
    return {
        "/api/benches/{bench_id}/commands": {
            "post": send,
            "get": {
                "summary": "The bench's latest commands, newest first",
                "parameters": [_BENCH_ID],
                "responses": {"200": _json("commands", listed), **_errors("401", "404")},
            },
        },
        "/api/commands/{command_id}": {
            "get": {
                "summary": "One command and how it went",
                "parameters": [{"name": "command_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json("the command", _COMMAND), **_errors("401", "404")},
            }
        },
        "/api/audit": {
            "get": {
                "summary": "Audit log, newest first (municipality users: entries about their benches only)",
                "parameters": _AUDIT_FILTERS,
                "responses": {"200": _json("entries", entries), **_errors("400", "401")},
            }
        },
        "/api/audit.csv": {
            "get": {
                "summary": "The same entries as a CSV download",
                "parameters": _AUDIT_FILTERS,
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    **_errors("400", "401"),
                },
            }
        },
    }
