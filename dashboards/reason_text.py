"""Health reasons and alarm messages in the viewer's language, from their code and parameters (``twins.reasons``).

The server renders pages with ``reason_text``; live events carry the code and parameters, and the page
scripts render them with ``reason_catalog`` (the translated templates and words, embedded in every page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_decimal, format_percent, format_timedelta
from flask_babel import gettext as _

from dashboards.i18n import fmt_time
from twins.reasons import TERMS, TEXTS, Kind, ParamValue, Reason


def _term(value: ParamValue) -> str:
    # A word the core names (a sensor, a port kind, why a bench went offline); the bench's own words stay.
    return str(_(str(value))) if value in TERMS else str(value)


#: How each kind of parameter is written in the viewer's language.
_FORMAT: dict[Kind, Callable[[ParamValue], str]] = {
    "int": lambda v: str(format_decimal(round(float(v)), format="#,##0")),
    "dec1": lambda v: str(format_decimal(float(v), format="#,##0.0")),
    "pct": lambda v: str(format_percent(float(v))),
    "time": lambda v: fmt_time(datetime.fromisoformat(str(v).replace("Z", "+00:00"))),
    # threshold 1: whole units as the English text counts them ("59 min", not "1 hour")
    "duration": lambda v: str(format_timedelta(timedelta(seconds=float(v)), threshold=1)),
    "term": _term,
    "terms": lambda v: ", ".join(_term(w) for w in str(v).split(", ")),
    "text": str,
}


def reason_text(reason: Reason) -> str:
    """The reason or alarm message in the viewer's language."""
    spec = TEXTS[reason.code]
    params = {k: _FORMAT[spec.kinds.get(k, "text")](v) for k, v in reason.params.items()}
    # gettext formats only when given parameters; a template without any has no "%%" to unescape.
    return str(_(spec.template, **params))


def doc_text(doc: Mapping[str, Any] | None, fallback: str) -> str:
    """A stored ``{"code", "params"}`` document in the viewer's language; ``fallback`` (English) when absent or
    of an unknown code (alarms raised before codes were kept)."""
    if not doc or doc.get("code") not in TEXTS:
        return fallback
    return reason_text(Reason(str(doc["code"]), doc.get("params") or {}))


def reason_catalog() -> dict[str, Any]:
    """What page scripts need to render reasons themselves: translated templates with each parameter's kind,
    and the translated words (``BF.reason`` in static/js/app.js)."""
    return {
        "texts": {code: {"t": str(_(t.template)), "k": dict(t.kinds)} for code, t in TEXTS.items()},
        "terms": {term: str(_(term)) for term in TERMS},
    }
