"""One duration parser for the CLI, scenarios and the dashboard's query parameters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboards.timeparams import TimeParamError
from dashboards.timeparams import parse_duration as parse_query_duration
from twins.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [("365d", timedelta(days=365)), ("36h", timedelta(hours=36)), ("1d12h", timedelta(days=1, hours=12)),
     ("90m", timedelta(minutes=90)), ("45s", timedelta(seconds=45)), ("1.5h", timedelta(minutes=90)),
     ("2w", timedelta(weeks=2)), (" 5M ", timedelta(minutes=5))],
)  # fmt: skip
def test_parse_duration(text: str, expected: timedelta) -> None:
    """Durations as the CLI, scenarios and query parameters write them."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("365", "no unit"), ("1d12", "no unit"), ("3y", "followed by"), ("0d", "positive"),
     ("-5m", "followed by"), ("h", "followed by")],
)  # fmt: skip
def test_bad_durations_name_the_text(text: str, message: str) -> None:
    """A bad duration says what is wrong."""
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_the_dashboard_names_its_parameter() -> None:
    assert parse_query_duration("every", "5m") == timedelta(minutes=5)
    with pytest.raises(TimeParamError, match="every='0m'"):
        parse_query_duration("every", "0m")
