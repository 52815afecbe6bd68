"""The configuration form: a table of editable fields of BenchConfig and the merge patch a submission makes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, lazy_gettext

from dashboards.views_model import ConfigRow
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
    """One input: dotted config path, input kind, parser, and what a person reads (label, unit, one-line help).

    Label and help are lazy translations: they are read in the viewer's language when shown."""

    path: str
    kind: str
    parse: Callable[[object], FormValue]
    label: Any
    help: Any
    unit: str = ""


#: Every editable field, in form order (polls have their own editor). Units are SI symbols, the same in every
#: language; the allowed range is read from the contract model (``bounds``), not repeated here.
FIELDS: tuple[FormField, ...] = (
    FormField(
        "telemetry_interval_s",
        "number",
        _int,
        lazy_gettext("Telemetry interval"),
        lazy_gettext("How often the bench sends a sample."),
        "s",
    ),
    FormField(
        "wifi.enabled",
        "checkbox",
        _bool,
        lazy_gettext("Wi-Fi on"),
        lazy_gettext("Whether the bench offers free Wi-Fi."),
    ),
    FormField("wifi.ssid", "text", _str, lazy_gettext("Wi-Fi name"), lazy_gettext("The network name people see.")),
    FormField(
        "wifi.max_clients",
        "number",
        _int,
        lazy_gettext("Wi-Fi users at once"),
        lazy_gettext("Most devices connected at the same time."),
    ),
    FormField(
        "wifi.session_minutes",
        "number",
        _int,
        lazy_gettext("Wi-Fi session length"),
        lazy_gettext("How long one connection lasts before it must reconnect."),
        "min",
    ),
    FormField(
        "ports.usb.enabled",
        "checkbox",
        _bool,
        lazy_gettext("USB charging on"),
        lazy_gettext("Whether the USB ports give power."),
    ),
    FormField(
        "ports.wireless.enabled",
        "checkbox",
        _bool,
        lazy_gettext("Wireless charging on"),
        lazy_gettext("Whether the wireless (Qi) pads give power."),
    ),
    FormField(
        "ports.scooter.enabled",
        "checkbox",
        _bool,
        lazy_gettext("Scooter charging on"),
        lazy_gettext("Whether the e-scooter socket gives power."),
    ),
    FormField(
        "ports.scooter.max_power_w",
        "number",
        _float,
        lazy_gettext("Scooter charging limit"),
        lazy_gettext("Most power one scooter may draw."),
        "W",
    ),
    FormField(
        "display.brightness_pct",
        "number",
        _int,
        lazy_gettext("Screen brightness"),
        lazy_gettext("Brightness of the touchscreen."),
        "%",
    ),
    FormField(
        "display.on_hours.start",
        "time",
        _str,
        lazy_gettext("Screen on from"),
        lazy_gettext("Local time the touchscreen lights up, like 07:30."),
    ),
    FormField(
        "display.on_hours.end",
        "time",
        _str,
        lazy_gettext("Screen off at"),
        lazy_gettext("Local time the touchscreen goes dark, like 22:00 (may be after midnight)."),
    ),
    FormField(
        "load_shedding.scooter_below_pct",
        "number",
        _float,
        lazy_gettext("Scooter off below"),
        lazy_gettext("Battery charge below which scooter charging is switched off first."),
        "%",
    ),
    FormField(
        "load_shedding.wifi_below_pct",
        "number",
        _float,
        lazy_gettext("Wi-Fi off below"),
        lazy_gettext("Battery charge below which Wi-Fi is switched off (at most the scooter's)."),
        "%",
    ),
    FormField(
        "load_shedding.usb_below_pct",
        "number",
        _float,
        lazy_gettext("USB off below"),
        lazy_gettext("Battery charge below which USB charging is switched off last (at most Wi-Fi's)."),
        "%",
    ),
    FormField(
        "load_shedding.hysteresis_pct",
        "number",
        _float,
        lazy_gettext("Switch-on margin"),
        lazy_gettext("How far above its threshold the charge must climb before a load comes back."),
        "%",
    ),
)
#: Names of the config's sections and the keys without an input here, for errors and the bench page's table.
SECTION_LABELS: dict[str, Any] = {
    "config": lazy_gettext("Configuration"),
    "wifi": lazy_gettext("Wi-Fi"),
    "ports": lazy_gettext("Charging ports"),
    "display": lazy_gettext("Touchscreen"),
    "display.on_hours": lazy_gettext("Screen hours"),
    "load_shedding": lazy_gettext("Load shedding"),
    "polls": lazy_gettext("Polls"),
    "announcements": lazy_gettext("Announcements"),
}
_BY_PATH = {f.path: f for f in FIELDS}


def field_label(path: str) -> str:
    """What a person calls the config key ``path`` in their language (the key itself if it has no name)."""
    field = _BY_PATH.get(path)
    return str(field.label if field is not None else SECTION_LABELS.get(path, path))


def bounds(path: str) -> tuple[float | None, float | None]:
    """The smallest and largest value the contract model allows at ``path`` (None: no bound)."""
    model: Any = BenchConfig
    *parents, leaf = path.split(".")
    for part in parents:
        model = model.model_fields[part].annotation
    low = high = None
    for rule in model.model_fields[leaf].metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return low, high


def shown_value(value: object) -> str:
    """A config value as a person reads it: yes/no for switches, an em dash for none, lists joined."""
    if isinstance(value, bool):
        return str(gettext("yes") if value else gettext("no"))
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item.get("id", item)) if isinstance(item, dict) else str(item) for item in value)
    return str(value)


def compare_rows(rows: list[ConfigRow]) -> list[dict[str, Any]]:
    """The bench page's desired/reported table: each field named in the viewer's language, values readable."""
    return [
        {
            "path": r.path,
            "label": field_label(r.path),
            "desired": shown_value(r.desired),
            "reported": shown_value(r.reported),
            "differs": r.differs,
        }
        for r in rows
    ]


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
