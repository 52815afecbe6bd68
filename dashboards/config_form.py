"""The configuration form: a table of editable fields of BenchConfig and the merge patch a submission makes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from twins.config import BenchConfig

#: A parsed form value (what a field's parser returns).
FormValue = bool | int | float | str


def _bool(text: object) -> bool:
    if isinstance(text, bool):
        return text
    if str(text).lower() in {"true", "on", "1", "yes"}:
        return True
    if str(text).lower() in {"false", "off", "0", "no", ""}:
        return False
    raise ValueError("must be on or off")


def _int(text: object) -> int:
    try:
        return int(str(text).strip())
    except ValueError as err:
        raise ValueError("must be a whole number") from err


def _float(text: object) -> float:
    try:
        return float(str(text).strip().replace(",", "."))  # a decimal comma is what bs/hr/sr users type
    except ValueError as err:
        raise ValueError("must be a number") from err


def _str(text: object) -> str:
    return str(text)


@dataclass(frozen=True, slots=True)
class FormField:
    """One input: dotted config path, input kind and parser."""

    path: str
    kind: str
    parse: Callable[[object], FormValue]


#: Every editable field, in form order (polls have their own editor).
FIELDS: tuple[FormField, ...] = (
    FormField("telemetry_interval_s", "number", _int),
    FormField("wifi.enabled", "checkbox", _bool),
    FormField("wifi.ssid", "text", _str),
    FormField("wifi.max_clients", "number", _int),
    FormField("wifi.session_minutes", "number", _int),
    FormField("ports.usb.enabled", "checkbox", _bool),
    FormField("ports.wireless.enabled", "checkbox", _bool),
    FormField("ports.scooter.enabled", "checkbox", _bool),
    FormField("ports.scooter.max_power_w", "number", _float),
    FormField("display.brightness_pct", "number", _int),
    FormField("display.on_hours.start", "time", _str),
    FormField("display.on_hours.end", "time", _str),
    FormField("load_shedding.scooter_below_pct", "number", _float),
    FormField("load_shedding.wifi_below_pct", "number", _float),
    FormField("load_shedding.usb_below_pct", "number", _float),
    FormField("load_shedding.hysteresis_pct", "number", _float),
)
_BY_PATH = {f.path: f for f in FIELDS}


def current_values(config: BenchConfig) -> dict[str, Any]:
    """Form values of a config: dotted path → value."""
    doc = config.model_dump(mode="json")
    out: dict[str, Any] = {}
    for f in FIELDS:
        node: Any = doc
        for part in f.path.split("."):
            node = node[part]
        out[f.path] = node
    return out


def common_values(configs: list[BenchConfig]) -> tuple[dict[str, Any], list[str]]:
    """The form values the configs share, and the paths where they differ (shown as "mixed")."""
    per_bench = [current_values(c) for c in configs]
    common: dict[str, Any] = {}
    mixed: list[str] = []
    for f in FIELDS:
        seen = {repr(v[f.path]) for v in per_bench}
        if len(seen) > 1:
            mixed.append(f.path)
        elif per_bench:
            common[f.path] = per_bench[0][f.path]
    return common, mixed


def build_patch(values: Mapping[str, object]) -> tuple[dict[str, Any], dict[str, str]]:
    """A nested merge patch from submitted dotted values, and the per-field parse errors."""
    patch: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for path, raw in values.items():
        field = _BY_PATH.get(path)
        if field is None:
            errors[path] = "not an editable field"
            continue
        try:
            value = field.parse(raw)
        except ValueError as err:
            errors[path] = str(err)
            continue
        node = patch
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return patch, errors
