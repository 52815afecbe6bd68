"""IngestWorker batching: a lone message goes at once; while a batch is being written the next one fills up."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fleet.ingest.pipeline import DecodedBatch, PreparedBatch, RawMessage
from fleet.ingest.worker import IngestWorker
from tests.waiting import wait_until


class GatedPipeline:
    """Records each batch's size; a batch's write (``commit``) waits until the test opens the gate."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.gate = threading.Event()
        self.writing = threading.Event()

    def decode(self, messages: list[RawMessage]) -> DecodedBatch:
        self.sizes.append(len(messages))
        return DecodedBatch(now=datetime(2026, 12, 1, tzinfo=UTC))

    def store(self, batch: DecodedBatch) -> PreparedBatch:
        return PreparedBatch([], [], 0.0)

    def commit(self, prepared: PreparedBatch) -> None:
        self.writing.set()
        assert self.gate.wait(10), "the test never opened the gate"

    def announce(self, prepared: PreparedBatch) -> None:
        """No listeners here."""


@pytest.fixture
def rig() -> Iterator[tuple[queue.SimpleQueue[RawMessage], GatedPipeline, list[RawMessage]]]:
    source: queue.SimpleQueue[RawMessage] = queue.SimpleQueue()
    pipeline = GatedPipeline()
    acked: list[RawMessage] = []
    # A long linger: were a lone message made to wait for it, the first assertion below would time out.
    worker = IngestWorker(source, pipeline, acked.extend, max_wait_s=30.0)  # type: ignore[arg-type]
    worker.start()
    yield source, pipeline, acked
    pipeline.gate.set()
    worker.stop()


def raw(n: int) -> RawMessage:
    return RawMessage(f"benches/b-{n}/telemetry", b"{}", mid=n)


def test_a_lone_message_is_not_held_back_for_the_linger(
    rig: tuple[queue.SimpleQueue[RawMessage], GatedPipeline, list[RawMessage]],
) -> None:
    source, pipeline, acked = rig
    pipeline.gate.set()
    source.put(raw(1))
    wait_until(lambda: acked, timeout=5, message="the lone message acknowledged")
    assert pipeline.sizes == [1]


def test_messages_arriving_while_a_batch_is_written_join_one_batch(
    rig: tuple[queue.SimpleQueue[RawMessage], GatedPipeline, list[RawMessage]],
) -> None:
    source, pipeline, acked = rig
    source.put(raw(1))
    wait_until(pipeline.writing.is_set, timeout=5, message="the first batch being written")
    for n in range(2, 12):
        source.put(raw(n))
    wait_until(lambda: source.empty(), timeout=5, message="the worker took the queued messages")
    pipeline.gate.set()  # the first write ends; the lingering batch goes with all ten
    wait_until(lambda: len(acked) == 11, timeout=5, message="every message acknowledged")
    assert pipeline.sizes == [1, 10]
    assert [m.mid for m in acked] == list(range(1, 12))  # in arrival order
