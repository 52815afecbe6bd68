"""What the kiosk tells a citizen about the bench right now: charging and Wi-Fi on offer, and announcements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from twins.config import BenchConfig, ShedLoad
from twins.shedding import port_shed

Offer = Literal["available", "shed", "off"]
"""``shed``: configured on, but switched off now to save a low battery; ``off``: switched off by the operator."""

StatusSource = Callable[[], dict[str, Any]]
"""Gives the kiosk's ``/api/status`` document (see ``kiosk_status``)."""


def _offer(enabled: bool, shed: bool) -> Offer:
    if not enabled:
        return "off"
    return "shed" if shed else "available"


def kiosk_status(config: BenchConfig, shed: frozenset[ShedLoad], now: datetime) -> dict[str, Any]:
    """The ``/api/status`` document: each offer's state and the announcements shown at ``now``."""
    ports = config.ports
    enabled = {"usb": ports.usb.enabled, "wireless": ports.wireless.enabled, "scooter": ports.scooter.enabled}
    return {
        "charging": {kind: _offer(on, port_shed(kind, shed)) for kind, on in enabled.items()},
        "wifi": {"state": _offer(config.wifi.enabled, "wifi" in shed), "ssid": config.wifi.ssid},
        "announcements": [
            {"id": a.id, "text": a.text, "ends": a.ends.isoformat().replace("+00:00", "Z")}
            for a in config.announcements
            if a.is_shown(now)
        ],
    }
