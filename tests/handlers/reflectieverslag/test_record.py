"""The periods a person can ask for, and how they read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handlers.reflectieverslag.record import ALL_FROM, Period, PeriodError, parse_period
from prompts import load_texts

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("", date(2021, 12, 4), TODAY),  # the last five years, the registration period
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("12 maanden", date(2025, 12, 4), TODAY),
        ("2 jaar", date(2024, 12, 4), TODAY),
        ("6 months", date(2026, 6, 4), TODAY),
        ("1-1-2024 31-12-2025", date(2024, 1, 1), date(2025, 12, 31)),
        ("2024-03-01 t/m 2024-03-31", date(2024, 3, 1), date(2024, 3, 31)),
        ("alles", ALL_FROM, TODAY),
        ("ALL", ALL_FROM, TODAY),
    ],
)
def test_periods(text: str, first: date, last: date) -> None:
    assert parse_period(text, TODAY) == Period(first, last)


@pytest.mark.parametrize(
    "text",
    ["gisteren", "2027", "1999", "31-02-2025 1-3-2025", "2025-12-31 2025-01-01", "0 maanden",
     "1-1-2024 2-1-2024 3-1-2024", "999 jaar"],
)  # fmt: skip
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text, TODAY)


def test_labels_and_bounds_in_the_communitys_zone() -> None:
    nl, en = load_texts("nl"), load_texts("en")
    assert Period(date(2025, 1, 1), date(2025, 12, 31)).label(nl) == "2025"
    assert Period(date(2024, 3, 1), date(2024, 3, 31)).label(nl) == "01-03-2024 t/m 31-03-2024"
    assert Period(date(2024, 3, 1), date(2024, 3, 31)).label(en) == "01-03-2024 to 31-03-2024"
    assert Period(ALL_FROM, TODAY).label(nl) == "alle tijd"
    start, end = Period(date(2026, 7, 1), date(2026, 7, 31)).bounds("Europe/Amsterdam")
    assert start == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert end == datetime(2026, 7, 31, 22, 0, tzinfo=UTC)
