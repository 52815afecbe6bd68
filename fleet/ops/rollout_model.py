"""Rollouts as values: what is asked for (targets, waves, halt rule), where each bench stands, and the
operator actions allowed in each status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from twins.clock import to_rfc3339
from twins.waves import HaltRule, WavePlan

RolloutKind = Literal["config", "firmware"]
RolloutStatus = Literal["running", "paused", "halted", "aborted", "completed", "rolled_back"]
#: Statuses in which the job no longer touches a rollout.
FINAL: frozenset[str] = frozenset({"aborted", "completed", "rolled_back"})

#: Operator actions: from which statuses each is allowed, and the status it leaves.
TRANSITIONS: dict[str, tuple[frozenset[str], RolloutStatus]] = {
    "pause": (frozenset({"running"}), "paused"),
    "resume": (frozenset({"paused", "halted"}), "running"),
    "abort": (frozenset({"running", "paused", "halted"}), "aborted"),
}


class RolloutRefused(ValueError):
    """A rollout request that cannot be carried out as asked; the message names what is wrong."""


class RolloutConflict(Exception):
    """An action not allowed in the rollout's current status."""


@dataclass(frozen=True, slots=True)
class Targets:
    """Which benches a rollout goes to: listed ones, one municipality's, or the whole fleet (scope allowing)."""

    bench_ids: tuple[str, ...] = ()
    municipality: str | None = None
    fleet: bool = False

    @staticmethod
    def from_json(doc: Any) -> Targets:
        """Decode ``{"bench_ids": [...]}``, ``{"municipality": "M"}`` or ``{"fleet": true}`` (exactly one)."""
        if not isinstance(doc, dict):
            raise RolloutRefused('targets: give {"bench_ids": [...]}, {"municipality": "..."} or {"fleet": true}')
        given = [k for k in ("bench_ids", "municipality", "fleet") if doc.get(k) not in (None, False, [], "")]
        if len(given) != 1:
            raise RolloutRefused("targets: give exactly one of bench_ids, municipality or fleet")
        ids = doc.get("bench_ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise RolloutRefused("targets.bench_ids: must be a list of bench ids")
        municipality = doc.get("municipality")
        if municipality is not None and not isinstance(municipality, str):
            raise RolloutRefused("targets.municipality: must be a string")
        return Targets(tuple(ids or ()), municipality, doc.get("fleet") is True)

    def as_json(self) -> dict[str, Any]:
        """The form stored and shown."""
        if self.bench_ids:
            return {"bench_ids": list(self.bench_ids)}
        if self.municipality is not None:
            return {"municipality": self.municipality}
        return {"fleet": True}


@dataclass(frozen=True, slots=True)
class RolloutRequest:
    """A rollout as asked for: the merge-patch (config) or ``{"version"}`` (firmware), the targets, the waves
    and the halt rule."""

    patch: dict[str, Any]
    targets: Targets
    plan: WavePlan = field(default_factory=WavePlan)
    rule: HaltRule = field(default_factory=HaltRule)
    timeout: timedelta = timedelta(minutes=10)
    kind: RolloutKind = "config"

    @staticmethod
    def from_json(doc: Any) -> RolloutRequest:
        """Decode the API body ``{"kind": "config", "patch", ...}`` or ``{"kind": "firmware", "version", ...}``
        with ``targets``, ``canary``?, ``percent``?, ``max_failure_pct``?, ``timeout_s``?; RolloutRefused names
        the bad field."""
        if not isinstance(doc, dict):
            raise RolloutRefused("the body must be a JSON object")
        kind = doc.get("kind", "config")
        if kind == "config":
            patch = doc.get("patch")
            if not isinstance(patch, dict) or not patch:
                raise RolloutRefused("patch: must be a non-empty JSON merge-patch object")
        elif kind == "firmware":
            version = doc.get("version")
            if not isinstance(version, str) or not version:
                raise RolloutRefused("version: the firmware version to install (a registered release)")
            patch = {"version": version}
        else:
            raise RolloutRefused("kind: must be config or firmware")
        canary = doc.get("canary")
        if canary is not None and not isinstance(canary, str):
            raise RolloutRefused("canary: must be a bench id")
        numbers: dict[str, float] = {}
        for name, default, low, high in (
            ("percent", 20.0, 0.0, 100.0),
            ("max_failure_pct", 10.0, 0.0, 100.0),
            ("timeout_s", 600.0, 1.0, 7 * 86400.0),
        ):
            value = doc.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise RolloutRefused(f"{name}: must be a number from {low:g} to {high:g}")
            numbers[name] = float(value)
        if numbers["percent"] == 0:
            raise RolloutRefused("percent: must be above 0")
        return RolloutRequest(
            patch,
            Targets.from_json(doc.get("targets")),
            WavePlan(canary, numbers["percent"]),
            HaltRule(numbers["max_failure_pct"]),
            timedelta(seconds=numbers["timeout_s"]),
            kind,
        )


@dataclass(frozen=True, slots=True)
class RolloutBench:
    """One bench's part in a rollout."""

    bench_id: str
    wave: int
    state: str
    desired_version: int | None
    error: str | None
    sent_at: datetime | None
    finished_at: datetime | None
    command_id: str | None = None
    ota_stage: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The API form."""
        return {
            "bench_id": self.bench_id,
            "wave": self.wave,
            "state": self.state,
            "desired_version": self.desired_version,
            "error": self.error,
            "command_id": self.command_id,
            "ota_stage": self.ota_stage,
            "sent_at": to_rfc3339(self.sent_at) if self.sent_at else None,
            "finished_at": to_rfc3339(self.finished_at) if self.finished_at else None,
        }


@dataclass(frozen=True, slots=True)
class Rollout:
    """A rollout and where each of its benches stands."""

    id: str
    kind: str
    status: str
    patch: dict[str, Any]
    targets: dict[str, Any]
    wave: int
    waves: int
    reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    benches: tuple[RolloutBench, ...] = field(default=())

    def counts(self) -> dict[str, int]:
        """How many benches are in each state."""
        return dict(Counter(b.state for b in self.benches))

    def as_json(self) -> dict[str, Any]:
        """The API form (``wave`` counts from 0, the canary)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "patch": self.patch,
            "targets": self.targets,
            "wave": self.wave,
            "waves": self.waves,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": to_rfc3339(self.created_at),
            "updated_at": to_rfc3339(self.updated_at),
            "finished_at": to_rfc3339(self.finished_at) if self.finished_at else None,
            "counts": self.counts(),
            "benches": [b.as_json() for b in self.benches],
        }


def restore_patch(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """The merge-patch that turns ``current`` into ``previous`` (nulls remove keys ``previous`` lacks)."""
    out: dict[str, Any] = {k: None for k in current if k not in previous}
    for key, want in previous.items():
        have = current.get(key)
        if isinstance(want, Mapping) and isinstance(have, Mapping):
            sub = restore_patch(have, want)
            if sub:
                out[key] = sub
        elif want != have:
            out[key] = want
    return out
