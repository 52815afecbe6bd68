"""Polling helper: wait on a condition with a deadline instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeoutError(AssertionError):
    """Raised when a condition did not become true before its deadline."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Poll ``predicate`` until it returns a truthy value and return that value, or raise WaitTimeoutError.

    Exceptions raised by the predicate count as "not yet" (a service still starting refuses
    connections); the last one is chained to the timeout error so failures stay diagnosable.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except Exception as err:
            last_error = err
        else:
            if value:
                return value
        if time.monotonic() >= deadline:
            raise WaitTimeoutError(f"{message} not reached within {timeout:.1f}s") from last_error
        # The one sanctioned pause: a short polling interval bounded by the deadline above.
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
