"""Each person's working days: a DM that comes due on a day they do not work waits until the
start of their next working day, in LEERKRING_TIMEZONE (``ctx.zone``).

The rule lives here and is applied where every feature's DMs pass: the claim of an outbox row
in ``handlers/core/sending.py``. A held row is simply not claimed: it stays ``pending``, so a
restart, a second process or a redelivery changes nothing, and it goes out once, at the first
tick after the moment below. Channel posts are not held.

When is a DM held? On a day off; and on a working day that follows a day off, before
``DAY_STARTS`` (what waited over the weekend, or over Monday for someone who works Tuesday to
Thursday, arrives at the start of the day, not in the night).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Member, MemberProfile

# ISO weekdays: 1 is Monday, 7 is Sunday.
WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)
DEFAULT_DAYS = frozenset({1, 2, 3, 4, 5})
DAY_STARTS = time(8, 0)


def parse(value: str | None) -> frozenset[int]:
    """The stored form ("2345") as weekdays; None, empty or nonsense is Monday to Friday."""
    if not value:
        return DEFAULT_DAYS
    days = frozenset(int(c) for c in value if c.isdigit() and 1 <= int(c) <= 7)
    return days or DEFAULT_DAYS


def stored(days: Iterable[int]) -> str | None:
    """What is stored for these weekdays: None for the default (and for none at all: someone
    who works no day at all would never hear from us, which nobody means)."""
    chosen = frozenset(d for d in days if 1 <= d <= 7)
    if not chosen or chosen == DEFAULT_DAYS:
        return None
    return "".join(str(d) for d in sorted(chosen))


def _works(days: frozenset[int], day: date) -> bool:
    return day.isoweekday() in days


def held_until(now: datetime, days: frozenset[int], zone: str) -> datetime | None:
    """None when a DM may go out at ``now``; otherwise the moment (UTC-aware, like ``now``)
    from which it may: the start of the person's next working day."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    today = local.date()
    if _works(days, today):
        if local.time() >= DAY_STARTS or _works(days, today - timedelta(days=1)):
            return None
        start = today
    else:
        start = today + timedelta(days=1)
        while not _works(days, start):
            start += timedelta(days=1)
    return datetime.combine(start, DAY_STARTS, tzinfo=tz).astimezone(now.tzinfo)


def days_of(session: Session, platform: str, user_id: str) -> frozenset[int]:
    """A person's working days, by their platform id (the default for someone unknown)."""
    value = session.scalar(
        select(MemberProfile.work_days)
        .join(Member, Member.id == MemberProfile.member_id)
        .where(Member.platform == platform, Member.platform_user_id == user_id)
    )
    return parse(value)


def hold_for(
    session: Session, platform: str, user_id: str, now: datetime, zone: str
) -> datetime | None:
    """``held_until`` for this person."""
    return held_until(now, days_of(session, platform, user_id), zone)
