"""The kiosk's /api/status: charging and Wi-Fi as the bench offers them now, announcements between start and end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from firmware_agent.kiosk.app import create_kiosk_app
from firmware_agent.kiosk.status import kiosk_status
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from firmware_agent.votes import VoteBox
from tests.firmware_agent.conftest import START, config_doc
from twins.clock import ManualClock
from twins.config import Announcement
from twins.twin import validate_config

TEXT = {"bs": "Sutra čistimo park", "hr": "Sutra čistimo park", "sr": "Сутра чистимо парк"}


def _announcement(starts_h: float, hours: float, ann_id: str = "clean-up") -> dict[str, object]:
    starts = START + timedelta(hours=starts_h)
    return {
        "id": ann_id,
        "text": TEXT,
        "starts": starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ends": (starts + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_offers_say_available_shed_or_off() -> None:
    doc = config_doc()
    doc["ports"]["wireless"]["enabled"] = False
    status = kiosk_status(validate_config(doc), frozenset({"scooter", "wifi"}), START)
    assert status["charging"] == {"usb": "available", "wireless": "off", "scooter": "shed"}
    assert status["wifi"] == {"state": "shed", "ssid": "SmartBench"}
    assert status["announcements"] == []


def test_announcements_show_between_start_and_end_only(tmp_path: Path) -> None:
    config = validate_config(config_doc(announcements=[_announcement(1, 2), _announcement(-3, 1, "over")]))
    clock = ManualClock(START)
    outbox = SqliteOutbox(AgentDatabase(tmp_path / "o.db"), "kiosk-01")
    app = create_kiosk_app(VoteBox("kiosk-01", clock, outbox, lambda: config), clock)
    client = app.test_client()
    assert client.get("/api/status").get_json()["announcements"] == []  # not yet
    clock.advance(timedelta(hours=1))
    shown = client.get("/api/status").get_json()["announcements"]
    assert [(a["id"], a["text"]["sr"]) for a in shown] == [("clean-up", "Сутра чистимо парк")]
    clock.advance(timedelta(hours=2))
    assert client.get("/api/status").get_json()["announcements"] == []  # ended


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": {"bs": "Tekst", "hr": "Tekst"}}, "text"),  # Serbian missing
        ({"text": {**TEXT, "de": "Text"}}, "text"),
        ({"text": {**TEXT, "bs": "x" * 281}}, "text.bs"),
        ({"ends": "2026-01-01T00:00:00Z"}, "ends"),
    ],
)
def test_a_bad_announcement_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Announcement.model_validate({**_announcement(0, 1), **change}, strict=False)
    assert {".".join(str(p) for p in e["loc"]) for e in err.value.errors()} == {field}
