"""Languages: Bosnian, Croatian, Serbian (Latin and Cyrillic) and English, per user; locale-aware formatting."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask, session
from flask_babel import Babel, format_datetime, format_decimal, get_locale
from flask_login import current_user

from dashboards.deps import deps
from dashboards.labels import (
    alarm_labels,
    alarm_order,
    config_state_labels,
    config_state_text,
    role_labels,
    rollout_labels,
)
from fleet.auth.store import LOCALES

TRANSLATIONS = Path(__file__).parent / "translations"
#: Names of the languages in themselves, for the switcher.
LANGUAGE_NAMES: dict[str, str] = {
    "bs": "Bosanski",
    "hr": "Hrvatski",
    "sr_Latn": "Srpski",
    "sr_Cyrl": "Српски",
    "en": "English",
}


def select_locale() -> str:
    """The logged-in user's language, else the session's choice, else the deployment default."""
    if current_user and current_user.is_authenticated:
        locale: str = current_user.user.locale
        return locale
    chosen = session.get("locale")
    return str(chosen) if chosen in LOCALES else deps().config.default_locale


def fmt_number(value: float | int | None, digits: int = 1, unit: str = "") -> str:
    """A number in the viewer's locale (decimal comma in bs/hr/sr), with a unit; an em dash for None."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    text = format_decimal(value, format=pattern)
    return f"{text}\u202f{unit}" if unit else text


def fmt_time(value: datetime | str | None) -> str:
    """A timestamp in the viewer's locale (medium format, UTC)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return str(format_datetime(value, "medium"))


#: The locale the browser's Intl API formats dates and numbers in. Chromium's built-in ICU has no Bosnian
#: data: Intl falls back to the root locale ("2026 M12 1", "1,234.5"). Serbian Latin writes dates and numbers
#: as Bosnian does (1. 12. 2026., 1.234,5) and uses no words, so Bosnian pages format with it.
INTL_LOCALES: dict[str, str] = {"bs": "sr-Latn"}


#: The Plotly locale (static/vendor/plotly-locales.js) chart axes use: month and day names per language.
PLOTLY_LOCALES: dict[str, str] = {"bs": "bs", "hr": "hr", "sr_Latn": "sr-SR", "sr_Cyrl": "sr", "en": "en"}


def plotly_locale() -> str:
    """The Plotly locale of the current language (English when Plotly has none)."""
    return PLOTLY_LOCALES.get(str(get_locale()), "en")


def intl_tag() -> str:
    """BCP 47 tag the browser's Intl API formats in for the current locale (see INTL_LOCALES)."""
    tag = locale_tag()
    return INTL_LOCALES.get(tag, tag)


def locale_tag() -> str:
    """BCP 47 tag of the current locale for the browser's Intl API (sr_Cyrl → sr-Cyrl)."""
    return str(get_locale()).replace("_", "-")


def install_i18n(app: Flask) -> None:
    """Flask-Babel with our catalogs and template helpers."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        fmt_number=fmt_number,
        fmt_time=fmt_time,
        locale_tag=locale_tag,
        intl_tag=intl_tag,
        plotly_locale=plotly_locale,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        config_state_labels=config_state_labels,
        alarm_labels=alarm_labels,
        alarm_order=alarm_order,
        config_state_text=config_state_text,
        role_labels=role_labels,
        rollout_labels=rollout_labels,
    )
