"""OpenAPI paths of the suspect-vote review (merged into dashboards.openapi's document)."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_GROUP = {
    "type": "object",
    "properties": {
        "bench_id": {"type": "string"},
        "municipality": {"type": "string"},
        "poll_id": {"type": "string"},
        "votes": {"type": "integer"},
        "first_received": {"type": "string", "format": "date-time"},
        "last_received": {"type": "string", "format": "date-time"},
    },
}
_REVIEW = {
    "type": "object",
    "required": ["bench_id", "poll_id", "decision"],
    "properties": {
        "bench_id": {"type": "string"},
        "poll_id": {"type": "string"},
        "decision": {"type": "string", "enum": ["accept", "reject"]},
    },
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def votes_paths() -> dict[str, Any]:
    """GET /api/votes/suspect and POST /api/votes/suspect/review (admin, municipality)."""
    listed = {"type": "object", "properties": {"suspect": {"type": "array", "items": _GROUP}}}
    reviewed = {"type": "object", "properties": {**_REVIEW["properties"], "votes": {"type": "integer"}}}  # type: ignore[dict-item]
    return {
        "/api/votes/suspect": {
            "get": {
                "summary": "Votes held as suspect (implausible rate) per bench and poll, awaiting review",
                "responses": {"200": _json("held votes", listed), "401": _ERROR, "403": _ERROR},
            }
        },
        "/api/votes/suspect/review": {
            "post": {
                "summary": "Accept (count) or reject (discard) a bench's held votes for a poll; audit-logged",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _REVIEW}}},
                "responses": {
                    "200": _json("how many votes moved", reviewed),
                    **dict.fromkeys(("400", "401", "403", "404", "422"), _ERROR),
                },
            }
        },
    }
