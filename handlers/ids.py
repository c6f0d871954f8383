"""Ids that arrive from outside: button values, form metadata, typed numbers.

``str.isdigit`` is true for "²" and "٣", which ``int`` refuses or reads as another digit,
and an id beyond the column's range makes the database driver raise (SQLite past 2^63,
PostgreSQL's INTEGER past 2^31) instead of finding nothing. One strict parser for all of
them: ASCII digits only, within the range of our INTEGER primary keys."""

from __future__ import annotations

import re

# The primary keys are INTEGER columns: 32 bits on PostgreSQL, the narrower of the two.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(value: object) -> int | None:
    """A positive id from a string of ASCII digits (or an int), or None for anything else:
    signs, spaces, other scripts' digits, superscripts, 0, or beyond ``MAX_ID``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def parse_number(value: str, low: int, high: int) -> int | None:
    """A typed whole number of ASCII digits (an optional leading minus) within
    ``low``..``high``, or None."""
    match = re.fullmatch(r"-?[0-9]{1,9}", value)
    if match is None:
        return None
    number = int(value)
    return number if low <= number <= high else None
