"""When a DM to someone may go out, by their working days (handlers/core/workdays.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.core import workdays

AMS = ZoneInfo("Europe/Amsterdam")
TUE_TO_THU = frozenset({2, 3, 4})


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in April 2026, in Amsterdam, as UTC (the 6th is a Monday)."""
    return datetime(2026, 4, day, hour, minute, tzinfo=AMS).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "days", "expected"),
    [
        (local(10, 15), TUE_TO_THU, local(14, 8)),  # Friday -> Tuesday at the start of the day
        (local(12, 23), TUE_TO_THU, local(14, 8)),  # Sunday
        (local(13, 9), TUE_TO_THU, local(14, 8)),  # Monday
        (local(14, 7, 59), TUE_TO_THU, local(14, 8)),  # Tuesday, before the start, after a day off
        (local(14, 8), TUE_TO_THU, None),
        (local(15, 6), TUE_TO_THU, None),  # Wednesday early: Tuesday was a working day
        (local(11, 10), workdays.DEFAULT_DAYS, local(13, 8)),  # Saturday -> Monday 08:00
        (local(10, 22), workdays.DEFAULT_DAYS, None),  # Friday evening is still Friday
        (local(6, 7), workdays.DEFAULT_DAYS, local(6, 8)),  # Monday 07:00 after the weekend
        (local(7, 7), workdays.DEFAULT_DAYS, None),
        (local(11, 10), frozenset(range(1, 8)), None),  # works every day
    ],
)
def test_held_until(now: datetime, days: frozenset[int], expected: datetime | None) -> None:
    held = workdays.held_until(now, days, "Europe/Amsterdam")
    assert held == expected
    if held is not None:
        assert (
            held.tzinfo is not None and workdays.held_until(held, days, "Europe/Amsterdam") is None
        )


def test_stored_and_parsed() -> None:
    assert workdays.stored([4, 2, 3]) == "234"
    assert workdays.stored([1, 2, 3, 4, 5]) is None  # the default is not stored
    assert workdays.stored([]) is None  # no day at all means the default, not never
    assert workdays.parse("234") == TUE_TO_THU
    assert (
        workdays.parse(None) == workdays.parse("") == workdays.parse("x9") == workdays.DEFAULT_DAYS
    )


def test_a_held_dm_crosses_the_change_to_summer_time() -> None:
    # Saturday 28 March 2026; summer time starts on Sunday: Monday 08:00 is 06:00 UTC.
    now = datetime(2026, 3, 28, 12, tzinfo=UTC)
    assert workdays.held_until(now, workdays.DEFAULT_DAYS, "Europe/Amsterdam") == datetime(
        2026, 3, 30, 6, tzinfo=UTC
    )
