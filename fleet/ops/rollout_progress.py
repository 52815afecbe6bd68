"""Following ``ota_progress`` on firmware rollouts (called by the ingest pipeline for each batch)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from fleet.ops.rollouts import rollout_benches, rollouts_table
from twins.codec import Decoded
from twins.messages import OtaProgressEvent

_r = rollouts_table.c
_b = rollout_benches.c

#: ``ota_progress`` stages that end an update without the new version running (the command may still have
#: succeeded: ``rolled_back`` comes from the agent's trial after its restart).
OTA_FAILED_STAGES: frozenset[str] = frozenset({"failed", "rejected", "rolled_back"})


def record_ota_progress(engine: Engine, accepted: Iterable[Decoded], now: datetime) -> int:
    """Follow the ``ota_progress`` events among ``accepted`` (a pipeline batch) on the firmware rollouts' pending
    benches: the stage is kept, and a failed, rejected or rolled-back update fails the bench at once. Safe to
    repeat. Returns how many rows changed."""
    events = [d.message for d in accepted if isinstance(d.message, OtaProgressEvent)]
    if not events:
        return 0
    changed = 0
    with engine.begin() as conn:
        for ev in events:
            pending = (
                _b.bench_id == ev.bench_id,
                _b.state == "pending",
                _b.command_id.is_not(None),
                _b.rollout_id.in_(
                    select(_r.id).where(_r.kind == "firmware", _r.patch == json.dumps({"version": ev.data.version}))
                ),
            )
            values: dict[str, Any] = {"ota_stage": ev.data.stage}
            if ev.data.stage in OTA_FAILED_STAGES:
                values |= {
                    "state": "failed",
                    "error": f"ota {ev.data.stage}: {ev.data.error or ''}",
                    "finished_at": now,
                }
            changed += conn.execute(update(rollout_benches).where(*pending).values(**values)).rowcount
    return changed
