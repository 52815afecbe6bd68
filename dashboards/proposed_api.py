"""Fleet methods the dashboards use when present but that ``FleetApi`` does not have yet (proposed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from fleet.service_api import Scope
from twins.series import SeriesSample


@runtime_checkable
class TurnoutApi(Protocol):
    """Votes of a poll over time (from the ``vote`` points of the TSDB)."""

    def turnout(
        self, poll_id: str, scope: Scope, start: datetime, end: datetime, every: timedelta
    ) -> list[SeriesSample]:
        """Votes counted per bucket (sum) within ``scope``."""
        ...
