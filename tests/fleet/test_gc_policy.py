"""The collector on a timer: automatic collection off, cycles still freed."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from fleet.gc_policy import TimedCollector, tune_gc
from tests.waiting import wait_until


class Node:
    """Something that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def automatic_gc_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.mark.usefixtures("automatic_gc_restored")
def test_a_cycle_is_freed_by_the_timer_with_automatic_collection_off() -> None:
    gc.disable()
    collector = TimedCollector(young_every_s=0.05, full_every_s=0.2)
    alive = _cycle()
    for _ in range(100_000):  # far past any allocation threshold: nothing collects automatically
        Node()
    assert alive() is not None
    collector.start()
    try:
        wait_until(lambda: alive() is None, timeout=10, message="the cycle collected by the timer")
        wait_until(lambda: collector.collections >= 5, timeout=10, message="the timer keeps collecting")
    finally:
        collector.stop()


@pytest.mark.usefixtures("automatic_gc_restored")
def test_tune_gc_turns_allocation_count_collection_off_once_per_process() -> None:
    tune_gc()
    tune_gc()
    assert not gc.isenabled()
    timers = [t for t in threading.enumerate() if t.name == "gc-timer"]
    assert len(timers) == 1
