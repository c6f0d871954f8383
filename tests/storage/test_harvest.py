"""The harvest's weekly activity is grouped by the local calendar week (Europe/Amsterdam), on
SQLite and PostgreSQL alike: a contribution on Monday 00:30 in Amsterdam belongs to that
Monday's week, in winter time (UTC+1), in summer time (UTC+2) and around the DST changes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.harvest_report import collect_harvest
from handlers.periods import parse_period
from storage.db import Database
from storage.harvest import Scope, activity, utc_offsets
from storage.models import Casus, CasusStatus, Channel, Member, Organisation

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


def seed_casussen(database: Database, moments: list[datetime]) -> None:
    """One casus per moment, all brought in by one member of one organisation."""
    with database.session() as session:
        organisation = Organisation(name="Wijkteam Oost")
        session.add(organisation)
        session.flush()
        member = Member(
            platform="slack",
            platform_user_id="U1",
            display_name="Anna",
            organisation_id=organisation.id,
        )
        channel = Channel(platform="slack", platform_channel_id="C1", name="casuistiek")
        session.add_all([member, channel])
        session.flush()
        for index, moment in enumerate(moments):
            session.add(
                Casus(
                    channel_id=channel.id,
                    inbrenger_id=member.id,
                    title=f"Casus {index}",
                    situation="Situatie.",
                    question="Vraag?",
                    perspectives=[],
                    status=CasusStatus.OPEN,
                    created_at=moment,
                    message_id=f"m{index}",
                )
            )


def weeks_of(database: Database, start: datetime, end: datetime, zone: str) -> dict[date, int]:
    with database.session() as session:
        series, _ = activity(session, Scope(start, end, None, zone))
    return {row.week: row.count for row in series}


def test_monday_just_after_midnight_counts_in_its_own_week(database: Database) -> None:
    moments = [
        local(2026, 1, 4, 23, 59),  # Sunday, winter time: week of 29 December
        local(2026, 1, 5, 0, 30),  # Monday 00:30 = Sunday 23:30 UTC: week of 5 January
        local(2026, 3, 29, 1, 30),  # Sunday of the spring change, before it (01:30 CET)
        local(2026, 3, 29, 3, 30),  # the same Sunday, after it (03:30 CEST)
        local(2026, 3, 30, 0, 30),  # Monday 00:30 CEST = Sunday 22:30 UTC
        local(2026, 6, 1, 0, 30),  # Monday 00:30, summer time = Sunday 22:30 UTC
        local(2026, 6, 7, 23, 45),  # Sunday 23:45 summer time: week of 1 June
        local(2026, 10, 25, 2, 30),  # Sunday of the autumn change (the first 02:30, CEST)
        local(2026, 10, 26, 0, 30),  # Monday 00:30 CET = Sunday 23:30 UTC
    ]
    seed_casussen(database, moments)
    start, end = local(2025, 12, 1, 0), local(2026, 12, 1, 0)
    assert weeks_of(database, start, end, "Europe/Amsterdam") == {
        date(2025, 12, 29): 1,
        date(2026, 1, 5): 1,
        date(2026, 3, 23): 2,
        date(2026, 3, 30): 1,
        date(2026, 6, 1): 2,
        date(2026, 10, 19): 1,
        date(2026, 10, 26): 1,
    }
    # In UTC the Monday-morning ones fall in the week before: what used to happen.
    in_utc = weeks_of(database, start, end, "UTC")
    assert in_utc[date(2025, 12, 29)] == 2 and date(2026, 1, 5) not in in_utc
    assert in_utc[date(2026, 3, 23)] == 3 and date(2026, 3, 30) not in in_utc


def test_weeks_match_python_for_many_moments_over_two_years(database: Database) -> None:
    """Moments spread over two years, many close to Monday midnight and the DST changes,
    bucketed by the database exactly as zoneinfo buckets them."""
    chooser = random.Random(20261015)
    start, end = local(2024, 11, 1, 0), local(2026, 11, 1, 0)
    moments = []
    for _ in range(150):
        moments.append(
            start + timedelta(seconds=chooser.randrange(int((end - start).total_seconds())))
        )
    monday = date(2024, 11, 4)
    while monday < end.astimezone(AMSTERDAM).date():
        midnight = datetime(monday.year, monday.month, monday.day, tzinfo=AMSTERDAM)
        for seconds in (-60, -1, 0, 1, 1800):
            moments.append((midnight + timedelta(seconds=seconds)).astimezone(UTC))
        monday += timedelta(weeks=1)
    for transition, _ in utc_offsets("Europe/Amsterdam", start, end)[1:]:
        moments.extend(transition + timedelta(seconds=s) for s in (-1, 0, 1))
    seed_casussen(database, moments)
    expected: Counter[date] = Counter()
    for moment in moments:
        day = moment.astimezone(AMSTERDAM).date()
        expected[day - timedelta(days=day.weekday())] += 1
    assert weeks_of(database, start, end, "Europe/Amsterdam") == dict(expected)


def test_offsets_follow_the_transitions_of_the_period() -> None:
    spans = utc_offsets("Europe/Amsterdam", local(2025, 12, 1, 0), local(2026, 12, 1, 0))
    assert spans == [
        (local(2025, 12, 1, 0), 3600),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600),
    ]
    assert utc_offsets("UTC", local(2025, 1, 1, 0), local(2027, 1, 1, 0))[1:] == []
    assert len(utc_offsets("Europe/Amsterdam", local(2000, 1, 1, 0), local(2026, 1, 1, 0))) == 53


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "UTC"])
def test_the_harvest_uses_the_zone_it_is_given(database: Database, zone: str) -> None:
    seed_casussen(database, [local(2026, 6, 1, 0, 30)])
    with database.session() as session:
        harvest = collect_harvest(
            session,
            parse_period("2026-05-25..2026-06-07", local(2026, 6, 8, 12), zone),
            channel_id=None,
            channel_label=None,
            now=local(2026, 6, 8, 12),
            zone=zone,
        )
    (row,) = harvest.activity
    # In Amsterdam it is Monday 1 June 00:30; in UTC still Sunday 31 May 22:30.
    assert row.week == (date(2026, 6, 1) if zone != "UTC" else date(2026, 5, 25))
