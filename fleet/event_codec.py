"""Fleet events to JSON and back (pydantic does the twin), for events that cross process boundaries."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from fleet.events import ConfigStatusChanged, FleetEvent, TwinChanged, VoteCounted


class EventDecodeError(ValueError):
    """A message on the events channel is not an event of this version; the text says what is wrong."""


# kind on the wire → event class: the one table both directions are derived from.
_KINDS: dict[str, type[Any]] = {
    "twin_changed": TwinChanged,
    "config_status_changed": ConfigStatusChanged,
    "vote_counted": VoteCounted,
}
_KIND_OF: dict[type[Any], str] = {cls: kind for kind, cls in _KINDS.items()}
_ADAPTERS: dict[str, TypeAdapter[Any]] = {kind: TypeAdapter(cls) for kind, cls in _KINDS.items()}


def encode_event(event: FleetEvent, origin: str) -> bytes:
    """One JSON document: ``{"origin", "kind", "event"}`` (origin = the process that published it)."""
    kind = _KIND_OF[type(event)]
    body = _ADAPTERS[kind].dump_python(event, mode="json")
    return json.dumps({"origin": origin, "kind": kind, "event": body}, separators=(",", ":")).encode()


def decode_event(data: bytes | str) -> tuple[str, FleetEvent]:
    """The origin and the event of a document made by ``encode_event``; EventDecodeError otherwise."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EventDecodeError(f"not JSON: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("origin"), str):
        raise EventDecodeError("not an event document: needs an 'origin' string, a 'kind' and an 'event'")
    kind = doc.get("kind")
    adapter = _ADAPTERS.get(kind) if isinstance(kind, str) else None
    if adapter is None:
        raise EventDecodeError(f"unknown event kind {kind!r}: expected one of {', '.join(_KINDS)}")
    try:
        event: FleetEvent = adapter.validate_python(doc.get("event"))
    except ValidationError as err:
        raise EventDecodeError(f"bad {kind} event: {err.errors(include_url=False)[:3]}") from None
    return doc["origin"], event
