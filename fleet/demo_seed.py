"""What `benchfleet demo` puts in an empty fleet: one open poll on every bench, so votes flow at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fleet.service_api import EVERYTHING, FleetApi
from twins.clock import to_rfc3339

DEMO_POLL_ID = "park-2026"


def demo_poll(now: datetime) -> dict[str, Any]:
    """A poll open from yesterday for two months, in the kiosk's four languages."""
    return {
        "id": DEMO_POLL_ID,
        "question": {
            "bs": "Da li želite novi park pored ove klupe?",
            "hr": "Želite li novi park pokraj ove klupe?",
            "sr": "Да ли желите нови парк поред ове клупе?",
            "en": "Do you want a new park next to this bench?",
        },
        "options": [
            {"id": "yes", "labels": {"bs": "Da", "hr": "Da", "sr": "Да", "en": "Yes"}},
            {"id": "no", "labels": {"bs": "Ne", "hr": "Ne", "sr": "Не", "en": "No"}},
        ],
        "opens": to_rfc3339(now - timedelta(days=1)),
        "closes": to_rfc3339(now + timedelta(days=60)),
    }


def seed_demo_polls(fleet: FleetApi, actor: str = "demo") -> int:
    """Give every bench without a poll the demo poll (published retained, like an operator's push)."""
    poll = demo_poll(fleet.now())
    seeded = 0
    for twin in fleet.list_twins(EVERYTHING):
        if not twin.desired.polls:
            fleet.patch_desired(twin.bench_id, {"polls": [poll]}, twin.desired_version, actor)
            seeded += 1
    return seeded
