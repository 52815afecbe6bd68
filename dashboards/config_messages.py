"""Configuration errors in words: a translated sentence per pydantic error type, never raw validator text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext
from pydantic import ValidationError

#: pydantic error type → sentence (``%(name)s`` filled from the error's context: ge, le, max_length...).
MESSAGES: dict[str, Any] = {
    "greater_than_equal": lazy_gettext("must be at least %(ge)s"),
    "less_than_equal": lazy_gettext("must be at most %(le)s"),
    "greater_than": lazy_gettext("must be more than %(gt)s"),
    "less_than": lazy_gettext("must be less than %(lt)s"),
    "string_pattern_mismatch": lazy_gettext("is not in the expected form (a time of day is written like 07:30)"),
    "string_too_long": lazy_gettext("may have at most %(max_length)s characters"),
    "string_too_short": lazy_gettext("must have at least %(min_length)s characters"),
    "int_parsing": lazy_gettext("must be a whole number"),
    "int_type": lazy_gettext("must be a whole number"),
    "int_from_float": lazy_gettext("must be a whole number"),
    "float_parsing": lazy_gettext("must be a number"),
    "float_type": lazy_gettext("must be a number"),
    "bool_parsing": lazy_gettext("must be on or off"),
    "bool_type": lazy_gettext("must be on or off"),
    "value_error": lazy_gettext("does not fit together with the other values"),
    "extra_forbidden": lazy_gettext("is not a setting of the bench"),
}
_FALLBACK = lazy_gettext("is not valid")
#: The contract models' own checks (``raise ValueError`` in twins.config), by the start of their English text;
#: ``%(rest)s`` is what follows the colon (the languages missing...).
VALUE_MESSAGES: tuple[tuple[str, Any], ...] = (
    ("missing text for language(s)", lazy_gettext("needs a text in every language; missing: %(rest)s")),
    ("unknown language(s)", lazy_gettext("has texts in unknown languages: %(rest)s")),
    ("option ids must be unique", lazy_gettext("two options have the same id")),
    ("closes must be after opens", lazy_gettext("must be after the opening time")),
    ("ends must be after starts", lazy_gettext("must be after the start")),
    ("poll ids must be unique", lazy_gettext("two polls have the same id")),
    ("announcement ids must be unique", lazy_gettext("two announcements have the same id")),
    (
        "thresholds must shed scooter first",
        lazy_gettext("must switch off scooter charging first, then Wi-Fi, then USB (falling thresholds)"),
    ),
)
#: The form's own parse errors (dashboards.config_form), translated on display.
PARSE_MESSAGES: dict[str, Any] = {
    "must be a whole number": MESSAGES["int_parsing"],
    "must be a number": MESSAGES["float_parsing"],
    "must be on or off": MESSAGES["bool_parsing"],
    "not an editable field": lazy_gettext("is not an editable field"),
}


def in_words(err: ValidationError) -> dict[str, str]:
    """Every error of ``err`` by dotted field path, in the viewer's language."""
    out: dict[str, str] = {}
    for item in err.errors(include_url=False):
        path = ".".join(str(p) for p in item["loc"]) or "config"
        ctx: Mapping[str, Any] = item.get("ctx") or {}
        if item["type"] == "value_error":
            out.setdefault(path, _value_error(str(ctx.get("error", ""))))
            continue
        template = MESSAGES.get(item["type"], _FALLBACK)
        out.setdefault(path, _fill(template, ctx))
    return out


def _value_error(text: str) -> str:
    for start, template in VALUE_MESSAGES:
        if text.startswith(start):
            return _fill(template, {"rest": text.partition(": ")[2]})
    return str(MESSAGES["value_error"])


def _fill(template: Any, ctx: Mapping[str, Any]) -> str:
    text = str(template)
    try:
        return text % {k: v for k, v in ctx.items() if isinstance(v, int | float | str)}
    except (KeyError, TypeError, ValueError):
        return text


def parse_errors_in_words(errors: Mapping[str, str]) -> dict[str, str]:
    """The form's parse errors in the viewer's language."""
    return {path: str(PARSE_MESSAGES.get(msg, msg)) for path, msg in errors.items()}
