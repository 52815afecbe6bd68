"""to_rfc3339 (cached, isoformat-based) writes what the plain strftime formatting wrote, in any zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from twins.clock import to_rfc3339


def _reference(ts: datetime) -> str:
    utc = ts.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))])


@given(st.datetimes(min_value=datetime(1001, 1, 1), max_value=datetime(9998, 12, 31), timezones=_ZONES))
def test_formats_like_strftime_in_utc(ts: datetime) -> None:
    assert to_rfc3339(ts) == _reference(ts)


def test_the_same_instant_in_two_zones_gives_one_text_and_cached_answers_stay_right() -> None:
    at = datetime(2026, 12, 1, 2, 44, 0, 123999, tzinfo=UTC)
    east = at.astimezone(timezone(timedelta(hours=1)))
    assert to_rfc3339(at) == "2026-12-01T02:44:00.123Z"
    assert to_rfc3339(east) == "2026-12-01T02:44:00.123Z"
    assert to_rfc3339(at + timedelta(milliseconds=1)) == "2026-12-01T02:44:00.124Z"
