"""The fleet page's data (``/fleet/data.json``): compact columns from per-bench rows kept between requests.

At 100,000 benches, building this answer was the largest part of a fleet page load (1.8 s of the page's
3.8 s, 18 MB of JSON): every twin was summarised and its health evaluated on every request. Now:

* A bench's row is kept until its twin changes (twins are immutable: a changed bench is a new object).
* Its health is reused for ``HEALTH_REUSE_S`` of the fleet's clock: health also moves with time alone (a
  silent bench turns stale), so a row's health is at most that old. Live updates carry fresh health, and the
  page re-reads this answer once a minute.
* Health reasons are written in the viewer's language once per bench, language and health evaluation, and
  each distinct text once per language: a reason's parameters are first reduced to what its text shows (a
  battery's whole percent, a silence in its largest whole unit, as the English text counts it), so 60,000
  silent benches need a few dozen calls to Babel instead of 60,000 (9 s).
* Values that repeat (municipality, health, configuration state, firmware, a bench's list of health reasons)
  travel as indices into the answer's own dictionaries (``dicts``, only the values of the benches answered),
  ``last_seen`` as epoch seconds, and the numbers as integers in the units of ``scale`` (coordinates in
  1e-5 degrees, about 1 m; metrics in tenths): Python writes an integer into JSON 2-3 times faster than a
  float. 100,000 benches are 8.6 MB instead of 18.

The page decodes the columns back into plain arrays once, so its live updates stay objects with strings.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from dashboards.views_model import FLEET_METRICS
from twins.messages import Telemetry
from twins.metrics import MetricValue
from twins.reasons import TEXTS, Kind, ParamValue, Reason
from twins.twin import Twin

#: How long (seconds of the fleet's clock) a row's evaluated health is reused.
HEALTH_REUSE_S = 5.0

#: The columns, in row order; health and reasons come last (they are refreshed without the rest).
STATIC_COLUMNS: tuple[str, ...] = (
    "bench_id",
    "name",
    "municipality",
    "lat",
    "lon",
    "online",
    *(m.key for m in FLEET_METRICS),
    "last_seen",
    "config_state",
    "firmware",
)
COLUMNS: tuple[str, ...] = (*STATIC_COLUMNS, "health", "reasons")
#: Columns sent as indices into ``dicts[column]`` (a ``reasons`` entry is a bench's whole list, or null).
CODED: tuple[str, ...] = ("municipality", "config_state", "firmware", "health", "reasons")

Row = tuple[Any, ...]
_METRIC_FNS: tuple[Callable[[Telemetry], MetricValue | None], ...] = tuple(m.value_fn for m in FLEET_METRICS)


#: Column → the factor its integers carry (the page divides by it).
SCALE: dict[str, int] = {"lat": 100_000, "lon": 100_000, **{m.key: 10 for m in FLEET_METRICS}}


def _tenths(value: MetricValue | None) -> int | None:
    return None if value is None else round(value * 10)


def _static(twin: Twin) -> Row:
    a, tel, seen = twin.attributes, twin.telemetry, twin.connectivity.last_seen
    metrics = tuple(_tenths(fn(tel)) for fn in _METRIC_FNS) if tel else (None,) * len(_METRIC_FNS)
    return (
        twin.bench_id,
        a.name,
        a.municipality,
        round(a.lat * 100_000),  # about 1 m
        round(a.lon * 100_000),
        twin.connectivity.online,
        *metrics,
        int(seen.timestamp()) if seen else None,
        twin.config_state(),
        twin.reported.firmware.version if twin.reported else None,
    )


def _health(twin: Twin, now: datetime, shown: Callable[[Reason], str]) -> Row:
    health = twin.health(now)
    # Most benches are healthy: None rather than () keeps the 100,000-bench answer small. Each reason is kept
    # as the key of its code and shown parameters, written in a language by ``FleetRows.rows``.
    return (health.status, tuple(shown(r.text) for r in health.reasons) or None)


def _shown(kind: Kind, value: ParamValue) -> ParamValue:
    """A parameter reduced to what its text shows (``twins.reasons``: whole numbers, one decimal, the largest
    whole unit of a duration)."""
    match kind:
        case "int":
            return round(float(value))
        case "dec1":
            return round(float(value), 1)
        case "pct":
            return round(float(value), 2)
        case "duration":
            whole = int(float(value))
            return next((whole // size * size for size in (86400, 3600, 60) if whole >= size), whole)
        case _:
            return value


def _shown_reason(reason: Reason) -> Reason:
    kinds = TEXTS[reason.code].kinds if reason.code in TEXTS else {}
    return Reason(reason.code, {k: _shown(kinds.get(k, "text"), v) for k, v in reason.params.items()})


#: Distinct reason texts kept per process (language, code, shown parameters); cleared beyond this many.
MAX_TEXTS = 20_000


class FleetRows:
    """Per-bench rows of the fleet page, rebuilt only for benches whose twin changed (thread-safe)."""

    def __init__(self, health_reuse_s: float = HEALTH_REUSE_S) -> None:
        self.health_reuse_s = health_reuse_s
        # bench id → (the twin the row was built from, the row, its reasons written per language or None)
        self._rows: dict[str, tuple[Twin, Row, dict[str, tuple[str, ...]] | None]] = {}
        self._health_at = -math.inf  # fleet time every held row's health was last evaluated (or later)
        self._texts: dict[tuple[str, str], str] = {}
        self._reasons: dict[str, Reason] = {}  # key → reason; grows with the distinct texts shown
        self._lock = threading.Lock()

    def _key(self, reason: Reason) -> str:
        """A string for the reason as its text shows it (a row keeps strings: the cyclic garbage collector
        leaves them alone, while 100,000 rows of objects set off full collections over every twin: 4 s)."""
        shown = _shown_reason(reason)
        key = shown.code + "".join(f"\x1f{k}={v!r}" for k, v in sorted(shown.params.items()))
        if key not in self._reasons:
            self._reasons[key] = shown
        return key

    def _write(self, key: str, text: Callable[[Reason], str], language: str) -> str:
        found = self._texts.get((language, key))
        if found is None:
            if len(self._texts) >= MAX_TEXTS:
                self._texts = {}
            found = self._texts[(language, key)] = text(self._reasons[key])
        return found

    def rows(
        self,
        twins: Sequence[Twin],
        now: datetime,
        complete: bool = False,
        text: Callable[[Reason], str] = Reason.english,
        language: str = "en",
    ) -> tuple[list[Row], list[tuple[str, ...] | None]]:
        """The rows of ``twins`` at ``now`` (their reasons as keys), and each one's reasons written by
        ``text``, which must depend on ``language`` only (kept per language until the row's health is evaluated
        again); ``complete``: these are all the benches (forget the others)."""
        at = now.timestamp()
        cache = self._rows
        get = cache.get
        if not 0.0 <= at - self._health_at < self.health_reuse_s:  # every held row's health, evaluated anew
            for bench_id, (twin, row, _) in list(cache.items()):
                cache[bench_id] = (twin, row[:-2] + _health(twin, now, self._key), None)
            self._health_at = at
        out: list[Row] = []
        written: list[tuple[str, ...] | None] = []
        append, write = out.append, written.append
        for twin in twins:
            held = get(twin.bench_id)
            if held is None or held[0] is not twin:
                held = cache[twin.bench_id] = (twin, _static(twin) + _health(twin, now, self._key), None)
            row = held[1]
            append(row)
            reasons = row[-1]
            if reasons is None:
                write(None)
                continue
            texts = held[2]
            if texts is None:
                texts = {}
                cache[twin.bench_id] = (twin, row, texts)
            words = texts.get(language)
            if words is None:
                words = texts[language] = tuple(self._write(r, text, language) for r in reasons)
            write(words)
        if complete and len(cache) > len(twins):
            with self._lock:
                kept = {t.bench_id for t in twins}
                self._rows = {k: v for k, v in cache.items() if k in kept}
        return out, written

    def columns(
        self,
        twins: Sequence[Twin],
        now: datetime,
        complete: bool = False,
        text: Callable[[Reason], str] = Reason.english,
        language: str = "en",
    ) -> dict[str, Any]:
        """``{"n", "columns", "dicts", "scale"}``: the compact, column-wise form of :meth:`rows` (see the module)."""
        return encode(*self.rows(twins, now, complete, text, language))


def encode(rows: Sequence[Row], reasons: Sequence[tuple[str, ...] | None] | None = None) -> dict[str, Any]:
    """Rows → one list per column, the repeating ones as indices into ``dicts``; ``reasons``: each row's
    reasons as written for the viewer (without: the rows' own reason keys)."""
    transposed = zip(*rows, strict=True) if rows else (() for _ in COLUMNS)
    columns: dict[str, Any] = dict(zip(COLUMNS, transposed, strict=True))  # tuples: JSON arrays all the same
    if reasons is not None:
        columns["reasons"] = reasons
    dicts: dict[str, list[Any]] = {}
    for name in CODED:
        index: dict[Any, int] = {}
        code = index.setdefault
        columns[name] = [code(v, len(index)) for v in columns[name]]
        dicts[name] = list(index)
    return {"n": len(rows), "columns": columns, "dicts": dicts, "scale": SCALE}


def decode(doc: dict[str, Any]) -> dict[str, list[Any]]:
    """The plain columns of an :func:`encode` answer (what the page's script does; for tests and tools)."""
    dicts = doc["dicts"]
    columns = dict(doc["columns"])
    for name in CODED:
        columns[name] = [dicts[name][i] for i in columns[name]]
    for name, factor in doc["scale"].items():
        columns[name] = [None if v is None else v / factor for v in columns[name]]
    return columns
