"""Report periods in local time, languages of municipalities, and the report texts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fleet.reports.build import daily_max_sum
from fleet.reports.language import municipality_language, parse_languages
from fleet.reports.period import PeriodError, parse_period, previous_month
from fleet.reports.texts import LANGUAGES, label, plural, text, to_cyrillic


def test_a_month_is_local_midnight_to_local_midnight_across_dst() -> None:
    october = parse_period("2026-10")
    assert october.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)  # CEST
    assert october.end == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # CET after the switch
    assert len(october.days()) == 31
    assert parse_period("2026-12").end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def test_a_range_includes_both_days() -> None:
    period = parse_period("2026-11-03..2026-11-05")
    assert period.days() == [date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2026-13", "month 13 is not 1..12"),
        ("2026-11-05..2026-11-01", "the last day is before the first"),
        ("2026-02-30..2026-03-01", "day is out of range"),
        ("November", "is not understood"),
    ],
)
def test_bad_periods_are_named(given: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message) as err:
        parse_period(given)
    assert "YYYY-MM" in str(err.value)


def test_previous_month_of_the_first() -> None:
    assert previous_month(date(2027, 1, 1)).label == "2026-12"


def test_languages_by_entity_and_setting() -> None:
    assert municipality_language("Trebinje", "RS", {}) == "sr-Cyrl"
    assert municipality_language("Mostar", "FBiH", {}) == "bs"
    assert municipality_language("Mostar", "FBiH", parse_languages("Mostar=hr, Trebinje=sr-Latn")) == "hr"
    assert municipality_language(None, "", {}) == "en"
    with pytest.raises(ValueError, match="'de' is not one of"):
        parse_languages("Mostar=de")
    with pytest.raises(ValueError, match="not MUNICIPALITY=LANGUAGE"):
        parse_languages("Mostar")


def test_texts_in_every_language_and_script() -> None:
    assert to_cyrillic("Zavidovići, Njegoševa, Ljubuški, džamija") == "Завидовићи, Његошева, Љубушки, џамија"
    assert text("sr-Cyrl", "wifi_sessions") == "Wi-Fi сесије"  # the name Wi-Fi stays Latin
    assert [plural("bs", "n_votes", n) for n in (1, 2, 5, 11, 21)] == [
        "1 glas", "2 glasa", "5 glasova", "11 glasova", "21 glas",
    ]  # fmt: skip
    assert plural("en", "n_votes", 1) == "1 vote"
    labels = {"bs": "Park?", "hr": "Perivoj?", "sr": "Park?", "en": "A park?"}
    assert [label(lang, labels) for lang in LANGUAGES] == ["Park?", "Perivoj?", "Park?", "Парк?", "A park?"]


def test_daily_max_sum_counts_each_local_day_once() -> None:
    # 23:30 UTC on 1 Nov is already 2 Nov in Sarajevo: its value belongs to the second day.
    values = [
        (datetime(2026, 11, 1, 10, tzinfo=UTC), 3.0),
        (datetime(2026, 11, 1, 20, tzinfo=UTC), 7.0),
        (datetime(2026, 11, 1, 23, 30, tzinfo=UTC), 2.0),
        (datetime(2026, 11, 2, 12, tzinfo=UTC), 4.0),
    ]
    assert daily_max_sum(values) == 7.0 + 4.0
