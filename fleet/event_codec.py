"""Fleet events to JSON and back (pydantic does the twin), for events that cross process boundaries.

A document is one JSON object ``{"origin": ..., "kind": ..., "event": {...}}``. It is decoded in one
pass in pydantic's JSON mode, which the twin's strict models need (a ``ts`` string is a datetime there).
A Redis message carries one or more documents of one origin, one per line (JSON Lines: a compact JSON
document never holds a raw newline), so a batch's events go out in one PUBLISH instead of one each.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from fleet.events import ConfigStatusChanged, FleetEvent, TwinChanged, TwinsMoved, VoteCounted


class EventDecodeError(ValueError):
    """A message on the events channel is not an event of this version; the text says what is wrong."""


# kind on the wire → event class: the one table both directions are derived from.
_KINDS: dict[str, type[Any]] = {
    "twin_changed": TwinChanged,
    "twins_moved": TwinsMoved,
    "config_status_changed": ConfigStatusChanged,
    "vote_counted": VoteCounted,
}
_KIND_OF: dict[type[Any], str] = {cls: kind for kind, cls in _KINDS.items()}


def _envelope(kind: str, cls: type[Any]) -> type[BaseModel]:
    tag: Any = Literal[kind]  # a Literal built at run time: one per kind of the table
    return create_model(f"{cls.__name__}Message", origin=(str, ...), kind=(tag, ...), event=(cls, ...))


_ENVELOPES: dict[str, type[BaseModel]] = {kind: _envelope(kind, cls) for kind, cls in _KINDS.items()}
_ANY_TYPE: Any = Annotated[Union[tuple(_ENVELOPES.values())], Field(discriminator="kind")]  # noqa: UP007
_ANY_ENVELOPE: TypeAdapter[Any] = TypeAdapter(_ANY_TYPE)


def encode_event(event: FleetEvent, origin: str) -> bytes:
    """One JSON document: ``{"origin", "kind", "event"}`` (origin = the process that published it)."""
    kind = _KIND_OF[type(event)]
    return _ENVELOPES[kind](origin=origin, kind=kind, event=event).model_dump_json().encode()


def join_documents(documents: list[bytes], max_bytes: int = 512 * 1024) -> list[bytes]:
    """Documents as few JSON Lines messages of at most about ``max_bytes`` each (one document may exceed it)."""
    messages: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for doc in documents:
        if chunk and size + len(doc) > max_bytes:
            messages.append(b"\n".join(chunk))
            chunk, size = [], 0
        chunk.append(doc)
        size += len(doc) + 1
    if chunk:
        messages.append(b"\n".join(chunk))
    return messages


def split_documents(message: bytes) -> list[bytes]:
    """The documents of one message made by ``join_documents`` (or of a single ``encode_event`` document)."""
    return [line for line in message.split(b"\n") if line.strip()]


def origin_prefix(origin: str) -> bytes:
    """How every document ``encode_event`` makes for ``origin`` begins (pydantic writes fields in order):
    a relay skips its own messages by this prefix without decoding them."""
    return b'{"origin":' + json.dumps(origin, ensure_ascii=False).encode() + b","


def decode_event(data: bytes | str) -> tuple[str, FleetEvent]:
    """The origin and the event of a document made by ``encode_event``; EventDecodeError otherwise."""
    try:
        message = _ANY_ENVELOPE.validate_json(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in err.errors()[:3])
        raise EventDecodeError(f"not an event document ({problems})") from None
    return message.origin, message.event
