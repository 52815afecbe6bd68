"""JSON Schema files of every payload, generated from the models for firmware written by others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from twins.config import BenchConfig
from twins.messages import EVENT_ADAPTER, Command, Desired, Reported, Status, Telemetry

SCHEMA_DIR = Path(__file__).with_name("schemas")

#: file name → the model or adapter it is generated from.
SCHEMAS: dict[str, TypeAdapter[Any]] = {
    "telemetry.schema.json": TypeAdapter(Telemetry),
    "event.schema.json": EVENT_ADAPTER,
    "reported.schema.json": TypeAdapter(Reported),
    "status.schema.json": TypeAdapter(Status),
    "desired.schema.json": TypeAdapter(Desired),
    "cmd.schema.json": TypeAdapter(Command),
    "config.schema.json": TypeAdapter(BenchConfig),
}


def render(name: str) -> str:
    """The JSON text of one schema file."""
    schema = SCHEMAS[name].json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://benchfleet.example/schemas/v1/{name}"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    """(Re)write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SCHEMAS:
        path = directory / name
        path.write_text(render(name), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_all():
        print(written)
