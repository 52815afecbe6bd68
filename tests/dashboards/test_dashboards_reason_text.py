"""Health reasons and alarm messages in every language: no English left, numbers and dates per locale."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from dashboards.i18n import TRANSLATIONS
from dashboards.reason_text import doc_text, reason_catalog, reason_text
from tests.twins.test_reasons import _sample
from twins.reasons import TEXTS, Reason

#: Words of each English template that a translation must not keep.
ENGLISH = ("battery at", "silent", "offline", "sensor fired", "expected", "session", "votes held", "rejected", "since")


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app)
    return app


@pytest.mark.parametrize("locale", ["bs", "hr", "sr_Latn", "sr_Cyrl"])
def test_no_english_left(app: Flask, locale: str) -> None:
    with app.test_request_context(), force_locale(locale):
        for code in TEXTS:
            text = reason_text(_sample(code))
            assert "%(" not in text, (locale, code, text)
            assert not any(w in text for w in ENGLISH), (locale, code, text)
        catalog = reason_catalog()
    assert set(catalog["texts"]) == set(TEXTS)


def test_numbers_dates_and_words_follow_the_locale(app: Flask) -> None:
    with app.test_request_context(), force_locale("bs"):
        assert reason_text(Reason("battery_temp", {"temp": 47.25})) == "temperatura baterije 47,2 °C"
        port = reason_text(Reason("alarm_port_still_stopped", {"kind": "usb", "hours": 12}))
        assert port == "još nijedna sesija (USB) za 12 h"
        assert "2026" in reason_text(Reason("alarm_tamper", {"at": "2026-12-01T06:40Z"}))
    with app.test_request_context(), force_locale("sr_Cyrl"):
        assert reason_text(Reason("offline", {"why": "connection lost"})) == "ван мреже: веза изгубљена"
        assert reason_text(Reason("offline", {"why": "restart: ota"})) == "ван мреже: restart: ota"  # the bench's words
    with app.test_request_context(), force_locale("en"):
        assert doc_text(None, "battery at 8 %") == "battery at 8 %"  # an alarm stored before codes were kept
        assert doc_text({"code": "battery_at", "params": {"soc": 8}}, "x") == "battery at 8 %"
