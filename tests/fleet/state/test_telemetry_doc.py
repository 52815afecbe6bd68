"""A twin's telemetry is stored as the payload arrived and moves by (ts, seq) to the microsecond, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fleet.db.schema import twins
from fleet.ingest.pipeline import RawMessage
from tests.fleet.ingest_kit import Kit, pipeline_kit
from tests.twins.samples import T0, telemetry_doc
from twins.messages import Telemetry

BENCH = "mostar-01"


@pytest.fixture(params=["postgresql", "sqlite"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kit]:
    db_url = request.getfixturevalue("db_url") if request.param == "postgresql" else None
    with pipeline_kit(tmp_path, db_url) as k:
        yield k


def _stored(kit: Kit) -> str:
    with kit.twins.engine.connect() as conn:
        text = conn.execute(select(twins.c.telemetry).where(twins.c.bench_id == BENCH)).scalar_one()
    assert isinstance(text, str)
    return text


def _sample(when_us: int, seq: int, soc: float) -> bytes:
    doc = telemetry_doc(BENCH, when=T0 - timedelta(minutes=1), seq=seq)
    doc["ts"] = (T0 - timedelta(minutes=1, microseconds=-when_us)).isoformat().replace("+00:00", "Z")
    doc["battery"]["soc_pct"] = soc
    return json.dumps(doc, indent=2, sort_keys=True).encode()  # not how the model would write it


def test_the_payload_is_stored_as_it_came_and_reads_back_as_the_validated_model(kit: Kit) -> None:
    payload = _sample(123_456, 5, 61.5)
    kit.pipeline.handle([RawMessage(f"benches/{BENCH}/telemetry", payload)])
    assert _stored(kit) == payload.decode()
    twin = kit.twins.get_twin(BENCH)
    assert twin is not None
    assert twin.telemetry == Telemetry.model_validate_json(payload)


def test_a_sample_moves_the_twin_only_when_newer_by_ts_then_seq_to_the_microsecond(kit: Kit) -> None:
    topic = f"benches/{BENCH}/telemetry"
    kit.pipeline.handle([RawMessage(topic, _sample(123_456, 5, 61.5))])
    kit.pipeline.handle([RawMessage(topic, _sample(123_456, 4, 10.0))])  # same instant, lower seq: older
    kit.pipeline.handle([RawMessage(topic, _sample(123_455, 9, 11.0))])  # one microsecond earlier: older
    twin = kit.twins.get_twin(BENCH)
    assert twin is not None
    assert twin.telemetry is not None
    assert twin.telemetry.battery.soc_pct == 61.5
    kit.pipeline.handle([RawMessage(topic, _sample(123_456, 6, 62.0))])  # same instant, higher seq: newer
    kit.pipeline.handle([RawMessage(topic, _sample(123_457, 0, 63.0))])  # one microsecond later: newer
    twin = kit.twins.get_twin(BENCH)
    assert twin is not None
    assert twin.telemetry is not None
    assert (twin.telemetry.battery.soc_pct, twin.telemetry.seq) == (63.0, 0)
    assert twin.telemetry.ts.microsecond == 123_457 % 1_000_000
