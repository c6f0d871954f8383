"""Periods as facilitators write them, in Dutch and in English."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handlers.harvest.periods import Period, PeriodError, parse_period

# Thursday 15 October 2026, 10:00 in Amsterdam (summer time, UTC+2).
NOW = datetime(2026, 10, 15, 8, 0, tzinfo=UTC)


def days(text: str, now: datetime = NOW) -> tuple[date, date]:
    period = parse_period(text, now)
    return period.first_day, period.last_day


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("", date(2026, 9, 4), date(2026, 10, 15)),
        ("afgelopen 6 weken", date(2026, 9, 4), date(2026, 10, 15)),
        ("last 6 weeks", date(2026, 9, 4), date(2026, 10, 15)),
        ("Past six weeks", date(2026, 9, 4), date(2026, 10, 15)),
        ("laatste 10 dagen", date(2026, 10, 6), date(2026, 10, 15)),
        ("afgelopen maand", date(2026, 9, 16), date(2026, 10, 15)),
        ("last 2 years", date(2024, 10, 16), date(2026, 10, 15)),
        ("sinds 1 september", date(2026, 9, 1), date(2026, 10, 15)),
        ("since 1 September", date(2026, 9, 1), date(2026, 10, 15)),
        ("since September 1", date(2026, 9, 1), date(2026, 10, 15)),
        ("sinds 1 november", date(2025, 11, 1), date(2026, 10, 15)),  # no year: the last one
        ("vanaf 2026-03-01", date(2026, 3, 1), date(2026, 10, 15)),
        ("sinds 1-9-2026", date(2026, 9, 1), date(2026, 10, 15)),
        ("2026-09-01..2026-10-15", date(2026, 9, 1), date(2026, 10, 15)),
        ("2026-09-01 .. 2026-09-30", date(2026, 9, 1), date(2026, 9, 30)),
        ("1 september t/m 30 september", date(2026, 9, 1), date(2026, 9, 30)),
        ("1 March to 31 March 2026", date(2026, 3, 1), date(2026, 3, 31)),
        ("dit kwartaal", date(2026, 10, 1), date(2026, 10, 15)),
        ("this quarter", date(2026, 10, 1), date(2026, 10, 15)),
        ("vorig kwartaal", date(2026, 7, 1), date(2026, 9, 30)),
        ("last quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("vorige maand", date(2026, 9, 1), date(2026, 9, 30)),
        ("this year", date(2026, 1, 1), date(2026, 10, 15)),
        ("deze week", date(2026, 10, 12), date(2026, 10, 15)),
        ("2026-10-01", date(2026, 10, 1), date(2026, 10, 1)),
    ],
)
def test_periods_people_write(text: str, first: date, last: date) -> None:
    assert days(text) == (first, last)


def test_the_interval_is_local_days_in_utc_half_open() -> None:
    period = parse_period("2026-09-01..2026-10-15", NOW)
    # Amsterdam is UTC+2 in September and October 2026.
    assert period.start == datetime(2026, 8, 31, 22, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 10, 15, 22, 0, tzinfo=UTC)
    assert period.days == 45
    assert period.label() == "01-09-2026 – 15-10-2026"


def test_winter_time_boundary() -> None:
    period = parse_period("2026-12-01..2026-12-31", datetime(2027, 1, 5, tzinfo=UTC))
    assert period.start == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def test_a_range_reaching_into_the_future_stops_today() -> None:
    assert days("2026-10-01..2026-12-31") == (date(2026, 10, 1), date(2026, 10, 15))


@pytest.mark.parametrize(
    "text",
    [
        "gisteravond laat",
        "afgelopen 6 lichtjaren",
        "last 0 weeks",
        "afgelopen 9999 weken",
        "2026-02-30..2026-03-10",
        "2026-10-10..2026-09-01",  # end before start
        "sinds 32 september",
        "2027-01-01",  # entirely in the future
        "since tomorrow",
    ],
)
def test_unparseable_or_impossible_periods_raise(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text, NOW)


def test_period_is_a_value() -> None:
    assert isinstance(parse_period("dit kwartaal", NOW), Period)
    assert parse_period("dit kwartaal", NOW) == parse_period("this quarter", NOW)


@pytest.mark.parametrize(
    ("text", "start", "end", "hours"),
    [
        # The spring change: Sunday 29 March 2026 has 23 hours in Amsterdam.
        (
            "2026-03-29",
            datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
            23,
        ),
        # The autumn change: Sunday 25 October 2026 has 25 hours.
        (
            "2026-10-25",
            datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
            25,
        ),
        # A week across the spring change starts at local midnight in winter time and ends at
        # local midnight in summer time.
        (
            "2026-03-23..2026-03-29",
            datetime(2026, 3, 22, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
            167,
        ),
    ],
)
def test_period_boundaries_are_local_midnights_across_dst(
    text: str, start: datetime, end: datetime, hours: int
) -> None:
    period = parse_period(text, datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
    assert (period.start, period.end) == (start, end)
    assert (period.end - period.start).total_seconds() == hours * 3600


def test_today_is_the_local_day_just_after_midnight() -> None:
    # Monday 2 November 2026, 00:30 in Amsterdam is still Sunday 23:30 in UTC.
    period = parse_period("deze week", datetime(2026, 11, 1, 23, 30, tzinfo=UTC))
    assert (period.first_day, period.last_day) == (date(2026, 11, 2), date(2026, 11, 2))
    assert period.start == datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
