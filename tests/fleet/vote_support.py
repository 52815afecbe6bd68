"""A bench that reports which polls it has in force, over a real broker: only their votes count."""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt

from fleet.runtime import FleetRuntime
from tests.payloads import BASE_TS, dumps
from tests.twins.samples import carrying_polls, poll_doc
from tests.waiting import wait_until


def carry(rt: FleetRuntime, pub: mqtt.Client, bench_id: str, *polls: str | dict[str, Any]) -> None:
    """Publish the bench's reported document with ``polls`` (ids of sample polls, or poll documents) in its
    applied config, as the agent does, and wait until the twin shows it."""
    docs = [poll_doc(p) if isinstance(p, str) else p for p in polls]
    poll_ids = {d["id"] for d in docs}
    doc = carrying_polls(bench_id, BASE_TS, *docs)
    pub.publish(f"benches/{bench_id}/reported", dumps(doc), qos=1).wait_for_publish(5)

    def carried() -> bool:
        twin = rt.service.get_twin(bench_id)
        applied = twin.reported.applied_config if twin and twin.reported else None
        return applied is not None and {p.id for p in applied.polls} == poll_ids

    wait_until(carried, timeout=15, message=f"{bench_id} reports polls {poll_ids}")
