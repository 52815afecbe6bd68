"""What the blueprints receive from the app factory: the fleet, the users, the settings and the live bridge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from dashboards.config import DashboardConfig
from fleet.auth.store import UserStore
from fleet.service_api import FleetApi

if TYPE_CHECKING:
    from dashboards.live import LiveBridge


@dataclass(frozen=True, slots=True)
class Deps:
    """Per-app collaborators, stored in ``app.extensions["benchfleet"]``."""

    config: DashboardConfig
    fleet: FleetApi
    users: UserStore
    live: LiveBridge


def deps() -> Deps:
    """The collaborators of the current app."""
    found: Deps = current_app.extensions["benchfleet"]
    return found
