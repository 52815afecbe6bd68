"""OpenAPI paths of rollouts (merged into dashboards.openapi's document)."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_ID = {"name": "rollout_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_STATES = ["queued", "pending", "applied", "rejected", "failed", "timed_out", "rolled_back"]
_ROLLOUT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "status", "patch", "targets", "wave", "waves", "created_by", "created_at", "counts"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": ["config", "firmware"]},
        "status": {"type": "string", "enum": ["running", "paused", "halted", "aborted", "completed", "rolled_back"]},
        "patch": {"type": "object", "description": "JSON merge-patch applied to each bench's desired config"},
        "targets": {"type": "object"},
        "wave": {"type": "integer", "description": "current wave, 0 = the canary"},
        "waves": {"type": "integer"},
        "reason": {"type": ["string", "null"], "description": "why the rollout halted"},
        "created_by": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "benches": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "bench_id": {"type": "string"},
                    "wave": {"type": "integer"},
                    "state": {"type": "string", "enum": _STATES},
                    "desired_version": {"type": ["integer", "null"]},
                    "error": {"type": ["string", "null"]},
                    "sent_at": {"type": ["string", "null"], "format": "date-time"},
                    "finished_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
        },
    },
}
_RELEASE = {
    "type": "object",
    "required": ["version", "model", "url", "sha256", "signature"],
    "properties": {
        "version": {"type": "string"},
        "model": {"type": "string", "description": "bench model, as benches report it in hardware.model"},
        "url": {"type": "string", "format": "uri"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "signature": {"type": "string", "description": "base64 Ed25519 over the release message (docs/agent.md)"},
    },
}
_REQUEST = {
    "type": "object",
    "required": ["targets"],
    "properties": {
        "kind": {"type": "string", "enum": ["config", "firmware"], "default": "config"},
        "patch": {"type": "object", "description": "config rollouts: the merge-patch"},
        "version": {"type": "string", "description": "firmware rollouts: the registered release to install"},
        "targets": {
            "oneOf": [
                {"type": "object", "required": ["bench_ids"], "properties": {"bench_ids": {"type": "array"}}},
                {"type": "object", "required": ["municipality"], "properties": {"municipality": {"type": "string"}}},
                {"type": "object", "required": ["fleet"], "properties": {"fleet": {"const": True}}},
            ]
        },
        "canary": {"type": "string", "description": "bench of wave 0 (default: the first target id)"},
        "percent": {"type": "number", "default": 20, "description": "share of the other benches in wave 1"},
        "max_failure_pct": {"type": "number", "default": 10, "description": "halt when a later wave fails more"},
        "timeout_s": {"type": "number", "default": 600, "description": "a bench not answering by then timed out"},
    },
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    return dict.fromkeys(codes, _ERROR)


def rollout_paths() -> dict[str, Any]:
    """Paths of contract section 5 for rollouts."""
    return {
        "/api/rollouts": {
            "get": {
                "summary": "The latest rollouts (within the caller's scope), without per-bench detail",
                "responses": {
                    "200": _json("rollouts", {"type": "object", "properties": {"rollouts": {"type": "array"}}}),
                    **_errors("401"),
                },
            },
            "post": {
                "summary": "Start a config rollout in waves (admin, maintenance): canary, percent, the rest",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _REQUEST}}},
                "responses": {
                    "202": _json("accepted: the scheduler sends it wave by wave", _ROLLOUT),
                    **_errors("400", "401", "403"),
                },
            },
        },
        "/api/firmware": {
            "get": {
                "summary": "Firmware inventory: bench ids per reported version, and each bench's version and model",
                "responses": {
                    "200": _json(
                        "inventory",
                        {
                            "type": "object",
                            "properties": {
                                "versions": {"type": "object", "additionalProperties": {"type": "array"}},
                                "benches": {"type": "array"},
                            },
                        },
                    ),
                    **_errors("401"),
                },
            }
        },
        "/api/firmware/releases": {
            "get": {
                "summary": "Registered firmware releases, newest first",
                "responses": {"200": _json("releases", {"type": "object"}), **_errors("401")},
            },
            "post": {
                "summary": "Register a signed release for one bench model (admin, maintenance); artifact at url",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _RELEASE}}},
                "responses": {"200": _json("the release", _RELEASE), **_errors("400", "401", "403")},
            },
        },
        "/api/rollouts/{rollout_id}": {
            "get": {
                "summary": "One rollout with every bench's state",
                "parameters": [_ID],
                "responses": {"200": _json("the rollout", _ROLLOUT), **_errors("401", "404")},
            }
        },
        "/api/rollouts/{rollout_id}/{action}": {
            "post": {
                "summary": "Pause, resume (also a halted rollout: its failures accepted), abort or roll back",
                "parameters": [
                    _ID,
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["pause", "resume", "abort", "rollback"]},
                    },
                ],
                "responses": {"200": _json("the rollout", _ROLLOUT), **_errors("401", "403", "404", "409")},
            }
        },
    }
