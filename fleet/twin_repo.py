"""Kept for callers of wave 1 (the scheduler's health sweep): the twins a process reads are a TwinCache now."""

from __future__ import annotations

from fleet.state.cache import TwinCache
from fleet.state.twin_store import UNASSIGNED

#: The process's read copy of the twins (``all()``, ``get()``); SQL owns them (fleet.state.twin_store).
TwinRepository = TwinCache

__all__ = ["UNASSIGNED", "TwinRepository"]
