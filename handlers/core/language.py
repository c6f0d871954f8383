"""Plurals, dates and month names in the texts' language, through Babel (CLDR).

The wording stays in ``prompts/<taal>/``: a counted word is a table with a text per CLDR
plural category (``one``, ``other``), and the date patterns are texts too. This module only
asks Babel which category a number falls in and how a moment is written; it holds no language
rules of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, get_day_names, get_month_names


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def plural_category(language: str, count: int) -> str:
    """CLDR's plural category of ``count``: ``one`` or ``other`` for Dutch and English."""
    return str(_locale(language).plural_form(abs(count)))


def pick_plural(forms: dict[str, str], language: str, count: int) -> str:
    """The form of a counted text for ``count``; ``other`` when a category is not written."""
    category = plural_category(language, count)
    return forms.get(category) or forms["other"]


def moment(value: datetime, pattern: str, language: str, zone: str | None = None) -> str:
    """``value`` in the local zone, written with a CLDR pattern (``EEEE d MMMM 'om' HH:mm``)."""
    local = value.astimezone(ZoneInfo(zone)) if zone else value
    return format_datetime(local, pattern, locale=_locale(language))


def day(value: date, pattern: str, language: str) -> str:
    """A date written with a CLDR pattern (``EEEE d MMMM``)."""
    return format_date(value, pattern, locale=_locale(language))


def month_names(language: str) -> dict[int, str]:
    """1 → ``januari`` … 12 → ``december`` (the wide stand-alone names)."""
    return dict(get_month_names("wide", context="stand-alone", locale=_locale(language)))


def weekday_names(language: str) -> dict[int, str]:
    """0 (Monday) → ``maandag`` … 6 → ``zondag``."""
    return dict(get_day_names("wide", context="stand-alone", locale=_locale(language)))
