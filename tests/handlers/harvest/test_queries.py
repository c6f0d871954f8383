"""The harvest's weekly activity is grouped by the local calendar week (Europe/Amsterdam), on
SQLite and PostgreSQL alike: a contribution on Monday 00:30 in Amsterdam belongs to that
Monday's week, in winter time (UTC+1), in summer time (UTC+2) and around the DST changes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from handlers.features import build_router
from handlers.harvest import queries as harvest_queries
from handlers.harvest.periods import parse_period
from handlers.harvest.queries import Scope, activity, prepare, utc_offsets
from handlers.harvest.report import HarvestOptions, collect_harvest
from storage.db import Database
from storage.models import (
    Answer,
    Bijdrage,
    Casus,
    CasusStatus,
    Channel,
    Member,
    Organisation,
    PromptRun,
)
from tests.support.harvest_seed import NOW, seed_story

SECTIONS = build_router().registry.harvest_sections  # every feature's harvest source
OPTIONS = HarvestOptions(registry=SECTIONS)

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
        series, _ = activity(session, Scope(start, end, None, zone), SECTIONS)
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
            options=OPTIONS,
        )
    (row,) = harvest.activity
    # In Amsterdam it is Monday 1 June 00:30; in UTC still Sunday 31 May 22:30.
    assert row.week == (date(2026, 6, 1) if zone != "UTC" else date(2026, 5, 25))


# --- how SQLite reads the period -------------------------------------------------------------


def seed_two_years(database: Database) -> None:
    """The story of tests/support/harvest_seed.py (autumn 2026), and a casus, a bijdrage and an
    answer two years earlier, so that six weeks are a small part of each table's history."""
    seed_story(database)
    long_ago = NOW - timedelta(days=730)
    with database.session() as session:
        member = session.scalars(select(Member).order_by(Member.id)).first()
        channel = session.scalars(select(Channel).order_by(Channel.id)).first()
        run = session.scalars(select(PromptRun).order_by(PromptRun.id)).first()
        assert member is not None and channel is not None and run is not None
        casus = Casus(
            channel_id=channel.id,
            inbrenger_id=member.id,
            title="Casus van lang geleden",
            situation="Situatie.",
            question="Vraag?",
            perspectives=["wonen"],
            status=CasusStatus.OPEN,
            created_at=long_ago,
            message_id="m-long-ago",
        )
        session.add(casus)
        session.flush()
        session.add(
            Bijdrage(casus_id=casus.id, author_id=member.id, text="Oud.", created_at=long_ago)
        )
        session.add(
            Answer(
                run_id=run.id,
                member_id=member.id,
                question_id="oud",
                text="Oud antwoord.",
                created_at=long_ago,
            )
        )


def range_reads(database: Database, period_text: str) -> set[str]:
    """The tables that the harvest's statements read through their created_at index with a
    range on it, from SQLite's EXPLAIN QUERY PLAN of every statement the harvest ran."""
    statements: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", remember)
    try:
        with database.session() as session:
            collect_harvest(
                session,
                parse_period(period_text, NOW),
                channel_id=None,
                channel_label=None,
                now=NOW,
                options=OPTIONS,
            )
    finally:
        event.remove(database.engine, "before_cursor_execute", remember)
    tables: set[str] = set()
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                for table in ("casussen", "bijdragen", "answers"):
                    if f"INDEX ix_{table}_created_at (created_at>" in row[3]:
                        tables.add(table)
    return tables


def test_sqlite_reads_a_short_period_through_the_index_and_scans_a_long_one(
    database: Database,
) -> None:
    """SQLite (without STAT4) takes a range on an index as selective whatever its bounds; two
    years through the index cost half again the CPU of a scan (bench/README.md, harvest scaling)."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL chooses between index and scan from its own statistics")
    seed_two_years(database)
    assert range_reads(database, "afgelopen 6 weken") == {"casussen", "bijdragen", "answers"}
    assert range_reads(database, "2024-10-01..2026-10-15") == set()


def test_the_long_period_scope_is_only_set_on_sqlite(database: Database) -> None:
    seed_two_years(database)
    with database.session() as session:
        short = prepare(session, Scope(NOW - timedelta(weeks=6), NOW), SECTIONS)
        long = prepare(session, Scope(NOW - timedelta(days=731), NOW), SECTIONS)
    assert short.scan == frozenset()
    if database.engine.dialect.name == "sqlite":
        assert long.scan == {"casussen", "bijdragen", "answers"}
    else:
        assert long.scan == frozenset()


@pytest.mark.parametrize("period_text", ["afgelopen 6 weken", "2024-10-01..2026-10-15"])
def test_scanning_or_reading_the_index_gives_the_same_harvest(
    database: Database, monkeypatch: pytest.MonkeyPatch, period_text: str
) -> None:
    seed_two_years(database)
    harvests = []
    for scan_from in (0.0, 2.0):  # every table scanned; every table through its index
        monkeypatch.setattr(harvest_queries, "SCAN_FROM", scan_from)
        with database.session() as session:
            harvests.append(
                collect_harvest(
                    session,
                    parse_period(period_text, NOW),
                    channel_id=None,
                    channel_label=None,
                    now=NOW,
                    options=OPTIONS,
                )
            )
    assert harvests[0] == harvests[1]
    assert harvests[0].casussen_total > 0
