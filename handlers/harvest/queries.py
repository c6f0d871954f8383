"""SQL aggregation for the harvest's shared parts (``/oogsten``): the weekly chart, the
participants per organisation and who learned with whom across organisations. Functions take
a session and never commit.

The harvest reads no feature's tables: every feature with something to harvest registers a
``HarvestSource`` (``handlers/core/sections.py``) with its own section, and the actions and
cross-organisation links (as selects) that are composed here, in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from handlers.core.sections import Scope, SourceRegistry
from storage.models import Channel, Member, Organisation, UTCDateTime


def prepare(session: Session, scope: Scope, registry: SourceRegistry) -> Scope:
    """SQLite: read the database file through mmap for the harvest's full-table aggregations
    (one page fault instead of a read() call per page; about a quarter less CPU on two years).
    The setting stays with the pooled connection, which is harmless for other queries.

    Also on SQLite: which tables to scan instead of reading through their created_at index.
    Without STAT4 statistics (Python's SQLite has none) the planner assumes a range on an
    index is selective whatever its bounds, and so walks the index even for a period that
    holds every row, fetching each row by id: on two years of 300,000 items that took half
    again the CPU of a plain scan. A period that spans at least ``SCAN_FROM`` of a table's
    time range is scanned; shorter ones keep the index. PostgreSQL decides this itself from
    its statistics."""
    if session.get_bind().dialect.name != "sqlite":
        return scope
    session.execute(text(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}"))
    return replace(scope, scan=_long_period_tables(session, scope, registry.dated()))


SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SCAN_FROM = 0.5


def _long_period_tables(session: Session, scope: Scope, dated: list[Any]) -> frozenset[str]:
    """The tables (the sources' ``dated`` models) whose first-to-last created_at span the
    period covers for at least ``SCAN_FROM``. Each min and max is its own scalar subquery:
    SQLite reads those from the ends of the index, whereas min() and max() in one select scan
    the table."""
    if not dated:
        return frozenset()
    ends = [
        select(aggregate(model.created_at)).scalar_subquery()
        for model in dated
        for aggregate in (func.min, func.max)
    ]
    bounds = session.execute(select(*ends)).one()
    long: set[str] = set()
    for index, model in enumerate(dated):
        first, last = bounds[2 * index], bounds[2 * index + 1]
        if first is None or last is None:
            continue
        span = (last - first).total_seconds()
        covered = (min(scope.end, last) - max(scope.start, first)).total_seconds()
        if span <= 0 or covered >= SCAN_FROM * span:
            long.add(model.__tablename__)
    return frozenset(long)


# --- activity and collaboration ----------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    week: date  # the Monday of the local calendar week (Scope.zone)
    organisation: str | None
    count: int


def _rows(session: Session, statement: Any) -> Sequence[Any]:
    """Rows of a compound select, whose column types SQLAlchemy cannot infer."""
    return session.execute(statement).all()


def _week(session: Session, column: Any, scope: Scope) -> Any:
    """The Monday of the week ``column`` falls in, in the scope's time zone."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", func.timezone(scope.zone, column)), Date)
    # SQLite has no time zones: shift each moment by its UTC offset, picked from the (few) DST
    # transitions around the period, and count whole local weeks since Monday 1969-12-29
    # (1970-01-01 was a Thursday, three days later). Integer arithmetic, no date text per
    # row; the week number becomes the Monday's date in Python (_as_date).
    local_seconds = _sqlite_seconds(column) + _sqlite_offset(column, scope)
    return (local_seconds + literal(3 * 86_400)) // literal(7 * 86_400)


def _sqlite_seconds(column: Any) -> Any:
    import sqlite3

    if sqlite3.sqlite_version_info >= (3, 38, 0):
        return func.unixepoch(column, type_=Integer)
    return cast(func.strftime("%s", column), Integer)


# Margin around the period for the offsets: actions lie inside it, but extra sources may be
# bucketed by a moment just outside (a session that started before the period began).
_OFFSET_MARGIN = timedelta(days=8)


def _sqlite_offset(column: Any, scope: Scope) -> Any:
    """The zone's UTC offset in seconds at ``column``: a CASE over the transitions in the
    period, newest first (a handful for two years)."""
    spans = utc_offsets(scope.zone, scope.start - _OFFSET_MARGIN, scope.end + _OFFSET_MARGIN)
    modifiers = [(since, literal(offset, Integer)) for since, offset in spans]
    if len(modifiers) == 1:
        return modifiers[0][1]
    newest_first = modifiers[:0:-1]
    return case(
        *((column >= literal(since, UTCDateTime()), value) for since, value in newest_first),
        else_=modifiers[0][1],
    )


def utc_offsets(zone: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets (seconds) in [start, end) as (from, offset) spans: the first one
    from ``start``, then one from each transition, found to the second."""
    tz = ZoneInfo(zone)

    def offset(second: int) -> int:
        moment = datetime.fromtimestamp(second, UTC).astimezone(tz)
        return int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]

    first, last = int(start.timestamp()), int(end.timestamp())
    spans = [(start, offset(first))]
    day = 86_400
    cursor = first
    while cursor < last:
        following = min(cursor + day, last)
        if offset(following) != spans[-1][1]:
            low, high = cursor, following  # offset(low) is the current one, offset(high) not
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == spans[-1][1]:
                    low = middle
                else:
                    high = middle
            spans.append((datetime.fromtimestamp(high, UTC), offset(high)))
        cursor = following
    return spans


def activity(
    session: Session, scope: Scope, registry: SourceRegistry
) -> tuple[list[Activity], list[tuple[str | None, int]]]:
    """Actions per week per organisation, and people per organisation, from one scan of the
    actions (every source's (member id, moment) rows): they are grouped by (person, week) once
    (a materialized CTE), and both answers are aggregated from those groups in the same
    statement."""
    selects = registry.actions(scope)
    if not selects:
        return [], []
    actions = union_all(*selects).subquery()
    week = _week(session, actions.c.at, scope)
    grouped = (
        select(actions.c.member_id, week.label("week"), func.count().label("n"))
        .group_by(actions.c.member_id, week)
        .cte("grouped")
    )
    if _can_materialize(session):
        grouped = grouped.prefix_with("MATERIALIZED")
    organisation = Member.organisation_id
    weekly_rows = (
        select(
            literal("w").label("part"),
            organisation.label("org"),
            cast(grouped.c.week, String).label("week"),
            func.sum(grouped.c.n).label("n"),
        )
        .join(Member, Member.id == grouped.c.member_id)
        .group_by(organisation, grouped.c.week)
    )
    people_rows = (
        select(
            literal("p").label("part"),
            organisation.label("org"),
            literal(None, String).label("week"),
            func.count(func.distinct(grouped.c.member_id)).label("n"),
        )
        .join(Member, Member.id == grouped.c.member_id)
        .group_by(organisation)
    )
    names = {i: name for i, name in session.execute(select(Organisation.id, Organisation.name))}
    series: list[Activity] = []
    participants: list[tuple[str | None, int]] = []
    for part, org_id, week_start, count in _rows(session, union_all(weekly_rows, people_rows)):
        name = names.get(org_id) if org_id is not None else None
        if part == "w":
            series.append(Activity(_as_date(week_start), name, int(count)))
        else:
            participants.append((name, int(count)))
    series.sort(key=lambda a: (a.week, a.organisation or ""))
    participants.sort(key=lambda i: (-i[1], i[0] or "\uffff"))
    return series, participants


def _can_materialize(session: Session) -> bool:
    """``AS MATERIALIZED`` exists from SQLite 3.35 and PostgreSQL 12 on; older ones simply
    evaluate the CTE per use."""
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35, 0)
    version = dialect.server_version_info or (0,)
    return dialect.name == "postgresql" and version >= (12,)


_FIRST_MONDAY = date(1969, 12, 29)  # week 0 of SQLite's week numbers (see _week)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if text.lstrip("-").isdigit():  # SQLite: a week number
        return _FIRST_MONDAY + timedelta(weeks=int(text))
    return date.fromisoformat(text[:10])


@dataclass(frozen=True)
class Link:
    contributor_organisation: str
    owner_organisation: str  # the organisation of whoever owns what was contributed to
    contributions: int
    people: int


def cross_organisation_links(
    session: Session, scope: Scope, registry: SourceRegistry
) -> list[Link]:
    """Contributions in the period by someone of one organisation to something (a casus, a
    session) of someone of another: every source's (member_id, owner_id) rows, grouped by
    organisation ids in SQL; the (few) names are looked up afterwards."""
    selects = registry.links(scope)
    if not selects:
        return []
    pairs = union_all(*selects).subquery()
    member, owner = aliased(Member), aliased(Member)
    rows = session.execute(
        select(
            member.organisation_id,
            owner.organisation_id,
            func.count(),
            func.count(func.distinct(pairs.c.member_id)),
        )
        .select_from(pairs)
        .join(member, member.id == pairs.c.member_id)
        .join(owner, owner.id == pairs.c.owner_id)
        .where(
            member.organisation_id.is_not(None),
            owner.organisation_id.is_not(None),
            member.organisation_id != owner.organisation_id,
        )
        .group_by(member.organisation_id, owner.organisation_id)
    ).all()
    names = {i: name for i, name in session.execute(select(Organisation.id, Organisation.name))}
    links = [
        Link(names[a], names[b], int(n), int(p))
        for a, b, n, p in rows
        if a is not None and b is not None
    ]
    return sorted(
        links, key=lambda k: (-k.contributions, k.contributor_organisation, k.owner_organisation)
    )


def channel_by_platform_id(session: Session, platform: str, channel_ref: str) -> Channel | None:
    return session.scalars(
        select(Channel).where(
            Channel.platform == platform,
            or_(Channel.platform_channel_id == channel_ref, Channel.name == channel_ref),
        )
    ).first()
