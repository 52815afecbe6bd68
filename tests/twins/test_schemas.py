"""The committed JSON Schema files equal the models' schemas, and real payloads validate against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.twins.samples import (
    CONTRACT_TELEMETRY,
    EVENT_DATA,
    cmd_doc,
    desired_doc,
    event_doc,
    reported_doc,
    status_doc,
    telemetry_doc,
)
from twins.config import DEFAULT_CONFIG_DOC
from twins.schema_export import SCHEMA_DIR, SCHEMAS, render, write_all

REGENERATE = "run `python -m twins.schema_export` and commit twins/schemas/"


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_up_to_date(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.exists(), f"{path} missing: {REGENERATE}"
    assert path.read_text(encoding="utf-8") == render(name), f"{name} is out of date: {REGENERATE}"


def test_no_stray_schema_files() -> None:
    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == set(SCHEMAS)


def test_write_all_writes_every_file(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(SCHEMAS)
    for path in written:
        assert path.read_text(encoding="utf-8") == render(path.name)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = _schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(name)
    jsonschema.Draft202012Validator.check_schema(schema)


#: schema file → documents that must validate.
VALID: dict[str, list[Any]] = {
    "telemetry.schema.json": [json.loads(CONTRACT_TELEMETRY), telemetry_doc(shed=["scooter"], extra_key=1)],
    "event.schema.json": [event_doc(kind, data) for kind, data in EVENT_DATA.items()],
    "reported.schema.json": [
        reported_doc(config={"version": 2, "status": "applied"}, applied_config=DEFAULT_CONFIG_DOC)
    ],
    "status.schema.json": [status_doc(True), status_doc(False, reason="connection lost")],
    "desired.schema.json": [desired_doc()],
    "cmd.schema.json": [cmd_doc()],
    "config.schema.json": [DEFAULT_CONFIG_DOC],
}


@pytest.mark.parametrize(("name", "index"), [(n, i) for n, docs in VALID.items() for i in range(len(docs))])
def test_valid_payloads_validate_against_the_schema(name: str, index: int) -> None:
    jsonschema.Draft202012Validator(_schema(name)).validate(VALID[name][index])


def test_contract_example_validates_against_telemetry_schema() -> None:
    jsonschema.validate(json.loads(CONTRACT_TELEMETRY), _schema("telemetry.schema.json"))


def _bad_soc() -> dict[str, Any]:
    doc = telemetry_doc()
    doc["battery"]["soc_pct"] = "81.2"
    return doc


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("telemetry.schema.json", _bad_soc()),
        ("telemetry.schema.json", telemetry_doc(v=2)),
        ("telemetry.schema.json", telemetry_doc(bench_id="Mostar")),
        ("telemetry.schema.json", {k: v for k, v in telemetry_doc().items() if k != "wifi"}),
        ("event.schema.json", event_doc("launch", {})),
        ("status.schema.json", status_doc(True) | {"online": "yes"}),
        ("desired.schema.json", desired_doc(version=0)),
    ],
)
def test_invalid_payloads_fail_the_schema(name: str, doc: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_schema(name)).validate(doc)
