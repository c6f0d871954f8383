"""Periods as people write them, in Dutch or English, for ``/oogsten`` and ``leerkring oogst``.

``afgelopen 6 weken`` (the default), ``sinds 1 september``, ``2026-09-01..2026-10-15``,
``dit kwartaal``, ``vorige maand``; ``last 6 weeks``, ``since 1 September``, ``this quarter``.
Days are calendar days in the community's time zone; a range includes its last day. The result
is a half-open UTC interval ``[start, end)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT = "afgelopen 6 weken"

MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2,
    "maart": 3, "march": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "augustus": 8, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_UNITS = {
    "dag": "days", "dagen": "days", "day": "days", "days": "days",
    "week": "weeks", "weken": "weeks", "weeks": "weeks",
    "maand": "months", "maanden": "months", "month": "months", "months": "months",
    "jaar": "years", "jaren": "years", "year": "years", "years": "years",
}  # fmt: skip
_NUMBERS = {
    "een": 1, "één": 1, "one": 1, "a": 1, "twee": 2, "two": 2, "drie": 3, "three": 3,
    "vier": 4, "four": 4, "vijf": 5, "five": 5, "zes": 6, "six": 6, "zeven": 7, "seven": 7,
    "acht": 8, "eight": 8, "negen": 9, "nine": 9, "tien": 10, "ten": 10, "twaalf": 12,
    "twelve": 12,
}  # fmt: skip
_RECENT = re.compile(
    r"^(?:de\s+)?(?:afgelopen|laatste|voorbije|last|past|the\s+last|the\s+past)\s+"
    r"(?:(?P<n>\d+|[a-zé]+)\s+)?(?P<unit>[a-z]+)$"
)
_SINCE = re.compile(r"^(?:sinds|vanaf|since|from)\s+(?P<date>.+)$")
_SEPARATORS = r"(?:\.\.|\s+t/m\s+|\s+tot en met\s+|\s+tot\s+|\s+to\s+|\s+until\s+|\s+-\s+|–)"
_RANGE = re.compile(r"^(?:van\s+|from\s+)?(?P<a>.+?)\s*" + _SEPARATORS + r"\s*(?P<b>.+)$")
_NAMED = {
    "dit kwartaal": ("quarter", 0), "this quarter": ("quarter", 0),
    "vorig kwartaal": ("quarter", -1), "last quarter": ("quarter", -1),
    "previous quarter": ("quarter", -1),
    "deze maand": ("month", 0), "this month": ("month", 0),
    "vorige maand": ("month", -1), "last month": ("month", -1),
    "previous month": ("month", -1),
    "dit jaar": ("year", 0), "this year": ("year", 0),
    "vorig jaar": ("year", -1), "last year": ("year", -1),
    "deze week": ("week", 0), "this week": ("week", 0),
    "vorige week": ("week", -1), "last week": ("week", -1),
    "alles": ("all", 0), "all": ("all", 0), "everything": ("all", 0),
}  # fmt: skip
_BEGINNING = date(2000, 1, 1)
MAX_UNITS = {"days": 3660, "weeks": 530, "months": 120, "years": 10}


class PeriodError(ValueError):
    """The text is not a period we understand."""


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    first_day: date  # local, for people
    last_day: date  # local, inclusive

    def label(self) -> str:
        return f"{self.first_day:%d-%m-%Y} – {self.last_day:%d-%m-%Y}"

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def parse_period(text: str, now: datetime, zone: str = "Europe/Amsterdam") -> Period:
    """The period meant by ``text`` (empty: the default) as seen at ``now``."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    words = " ".join(text.lower().replace(",", " ").split()) or DEFAULT
    if words in _NAMED:
        unit, offset = _NAMED[words]
        first, last = _named(unit, offset, today)
    elif match := _RECENT.match(words):
        span = _UNITS.get(match.group("unit"))
        raw = match.group("n") or "1"
        count = int(raw) if raw.isdigit() else _NUMBERS.get(raw)
        if span is None or count is None or not 1 <= count <= MAX_UNITS[span]:
            raise PeriodError(text)
        first, last = _shift(today, span, -count) + timedelta(days=1), today
    elif match := _SINCE.match(words):
        first, last = _date(match.group("date"), today, past=True), today
    elif match := _RANGE.match(words):
        first = _date(match.group("a"), today, past=True)
        last = _date(match.group("b"), today, past=False, after=first)
    else:
        first = last = _date(words, today, past=True)
    if last > today:
        last = today
    if first > last:
        raise PeriodError(text)
    return Period(_utc(first, tz), _utc(last + timedelta(days=1), tz), first, last)


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def _named(unit: str, offset: int, today: date) -> tuple[date, date]:
    if unit == "all":
        return _BEGINNING, today
    if unit == "week":
        start = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        return start, start + timedelta(days=6)
    if unit == "month":
        start = _add_months(today.replace(day=1), offset)
        return start, _add_months(start, 1) - timedelta(days=1)
    if unit == "quarter":
        start = _add_months(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), 3 * offset)
        return start, _add_months(start, 3) - timedelta(days=1)
    start = date(today.year + offset, 1, 1)
    return start, date(start.year, 12, 31)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise PeriodError(str(day))


def _shift(today: date, unit: str, count: int) -> date:
    if unit == "days":
        return today + timedelta(days=count)
    if unit == "weeks":
        return today + timedelta(weeks=count)
    if unit == "months":
        return _add_months(today, count)
    return _add_months(today, 12 * count)


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{4}))?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:e|st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:e|st|nd|rd|th)?(?:\s+(\d{4}))?$")
_MONTH_ONLY = re.compile(r"^([a-z]+)(?:\s+(\d{4}))?$")


def _date(text: str, today: date, *, past: bool, after: date | None = None) -> date:
    """A calendar date. Without a year: the most recent such date (``past``) or, for the end
    of a range, the first one on or after its start."""
    text = text.strip()
    year: int | None
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _NUMERIC.match(text):
        day, month = int(match.group(1)), int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
    elif (match := _DAY_MONTH.match(text)) and match.group(2) in MONTHS:
        day, month = int(match.group(1)), MONTHS[match.group(2)]
        year = int(match.group(3)) if match.group(3) else None
    elif (match := _MONTH_DAY.match(text)) and match.group(1) in MONTHS:
        month, day = MONTHS[match.group(1)], int(match.group(2))
        year = int(match.group(3)) if match.group(3) else None
    elif (match := _MONTH_ONLY.match(text)) and match.group(1) in MONTHS:
        month, day = MONTHS[match.group(1)], 1
        year = int(match.group(2)) if match.group(2) else None
    else:
        raise PeriodError(text)
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(today.year, month, day)
        if after is not None:
            return candidate if candidate >= after else date(today.year + 1, month, day)
        if past and candidate > today:
            return date(today.year - 1, month, day)
        return candidate
    except ValueError:
        raise PeriodError(text) from None
