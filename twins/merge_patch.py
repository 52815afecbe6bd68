"""JSON Merge Patch (RFC 7386) and the delta between two documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch to ``target`` and return a new document (inputs untouched)."""
    if not isinstance(patch, Mapping):
        return patch
    result: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def delta(desired: Mapping[str, Any], reported: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every desired key whose value differs from reported (AWS Device Shadow semantics), nested."""
    out: dict[str, Any] = {}
    reported = reported or {}
    for key, want in desired.items():
        have = reported.get(key)
        if isinstance(want, Mapping) and isinstance(have, Mapping):
            sub = delta(want, have)
            if sub:
                out[key] = sub
        elif want != have:
            out[key] = want
    return out
