"""Every visible string is translated in every language: the catalog is re-extracted from the sources (as
``pybabel extract`` would, with dashboards/babel.cfg), each msgid must have a translation in bs, hr, sr Latin,
sr Cyrillic and en (every plural form), and each compiled .mo must hold exactly what its .po says."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

from dashboards.app import create_app
from fleet.auth.store import UserStore
from fleet.ops.alarms import AlarmStore
from tests.dashboards.dash_support import PASSWORD, make_config, start_live
from tests.dashboards.fake_fleet import FakeFleet, telemetry
from tests.dashboards.served import chromium, log_in, served

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
TRANSLATIONS = DASHBOARDS / "translations"
LOCALES = ["bs", "hr", "sr_Latn", "sr_Cyrl", "en"]
#: The keywords of docs/dashboards.md's extract command: gettext/ngettext (the defaults), lazy_gettext, N_.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}


def _key(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    """Every msgid in the sources now (dashboards/ by babel.cfg; twins/metrics.py and twins/reasons.py)."""
    with (DASHBOARDS / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {_key(msg) for _f, _l, msg, _c, _x in extract_from_dir(DASHBOARDS, method_map, options_map, KEYWORDS)}
    for core in ("metrics.py", "reasons.py"):  # metric labels, health reason and alarm message texts
        found |= {_key(msg) for _l, msg, _c, _x in extract_from_file("python", ROOT / "twins" / core, {"N_": None})}
    assert len(found) > 250  # the extraction really ran over the templates and the code
    return found


def _catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def _strings(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string)


def _translated(message: Any, forms: int) -> bool:
    if message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    wanted = forms if message.pluralizable else 1
    return len(strings) == wanted and all(s.strip() for s in strings)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_extracted_string_is_translated(locale: str, extracted: set[str]) -> None:
    catalog = _catalog(locale)
    done = {_key(m.id) for m in catalog if m.id and _translated(m, catalog.num_plurals)}
    assert sorted(extracted - done) == [], f"{locale}: untranslated (run pybabel extract/update, then translate)"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_is_current(locale: str) -> None:
    po = _catalog(locale)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        mo = read_mo(fh)
    want = {_key(m.id): _strings(m.string) for m in po if m.id and not m.fuzzy}
    have = {_key(m.id): _strings(m.string) for m in mo if m.id}
    assert have == want, f"{locale}: messages.mo is stale: run pybabel compile -d dashboards/translations"


def test_plural_forms_follow_cldr() -> None:
    """Bosnian and Serbian Cyrillic count votes with CLDR's one/few/many forms."""
    forms = {
        "bs": ["1 glas", "2 glasa", "5 glasova", "21 glas", "12 glasova"],
        "sr_Cyrl": ["1 глас", "2 гласа", "5 гласова", "21 глас", "12 гласова"],
    }
    for locale, wanted in forms.items():
        with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
            compiled = gettext.GNUTranslations(fh)  # what Flask-Babel reads at run time
        shown = [compiled.ngettext("%(num)d vote", "%(num)d votes", n) % {"num": n} for n in (1, 2, 5, 21, 12)]
        assert shown == wanted


@pytest.fixture
def base(fleet: FakeFleet, user_store: UserStore, alarm_store: AlarmStore) -> Iterator[str]:
    app: Flask = create_app(make_config(live_interval_s=0.2), fleet, user_store, alarm_store)
    start_live(app, fleet)
    fleet.ingest_telemetry(telemetry("mostar-01", fleet.now(), 1, soc=55.0))
    with served(app) as url:
        yield url
    app.extensions["benchfleet"].live.stop()
    app.extensions["benchfleet.alarms.announcer"].stop()


@pytest.mark.parametrize(
    ("locale", "date", "number"),
    [
        ("bs", "1. 12. 2026.", "1.234,5"),  # not the root locale's "2026 M12 1" and "1,234.5"
        ("hr", "1. pro 2026.", "1.234,5"),
        ("sr_Cyrl", "1. 12. 2026.", "1.234,5"),
        ("en", "Dec 1, 2026", "1,234.5"),
    ],
)
def test_dates_and_numbers_read_well_in_the_browser(
    base: str, user_store: UserStore, locale: str, date: str, number: str
) -> None:
    from playwright.sync_api import expect

    with chromium() as browser:
        page = browser.new_page()
        log_in(page, base, "mo", PASSWORD)
        try:
            with page.expect_navigation():
                page.select_option("form.lang select", locale)
            page.goto(f"{base}/benches/mostar-01")
            page.wait_for_function("window.BF !== undefined")
            shown = page.evaluate("BF.time('2026-12-01T14:05:00Z') + ' | ' + BF.num(1234.5, 1)")
            assert shown.startswith(date), shown
            assert shown.endswith(number), shown
            if locale != "en":  # the config state is in the language too, not "pending (v0)"
                expect(page.locator("#config-state")).not_to_contain_text("pending")
        finally:
            user_store.set_locale("mo", "en")
            page.close()


def test_server_dates_read_well_in_every_locale(app: Flask) -> None:
    from flask_babel import force_locale

    from dashboards.i18n import fmt_time

    at = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    with app.test_request_context():
        for locale in LOCALES:
            with force_locale(locale):
                text = fmt_time(at)
            assert "M12" not in text, (locale, text)
            assert "2026" in text, (locale, text)
