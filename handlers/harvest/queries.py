"""SQL aggregation for the harvest (``/oogsten``): counts and groupings are computed by the
database, and only bounded lists of items come back as rows. Functions take a session and
never commit.

Features add their own sections through ``handlers/core/sections.py``: a ``HarvestSource``
returns a ``SourceSection`` with its own figures and items, and the activity, participants and
texts that feed the chart, the collaboration section and the themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from handlers.core.sections import Scope, SourceRegistry
from storage.models import (
    Answer,
    Bijdrage,
    Casus,
    CasusStatus,
    Channel,
    Member,
    Organisation,
    PromptRun,
    UTCDateTime,
)

SUCCESS_KINDS = ("wat-ging-goed", "succesvragen")
LEERVRAAG_KIND = "leervraag"
LEERVRAAG_QUESTION = "leervraag"


def prepare(session: Session, scope: Scope) -> Scope:
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
    return replace(scope, scan=_long_period_tables(session, scope))


SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SCAN_FROM = 0.5
_DATED = (Casus, Bijdrage, Answer)


def _long_period_tables(session: Session, scope: Scope) -> frozenset[str]:
    """The tables whose first-to-last created_at span the period covers for at least
    ``SCAN_FROM``. Each min and max is its own scalar subquery: SQLite reads those from the
    ends of the index, whereas min() and max() in one select scan the table."""
    ends = [
        select(aggregate(model.created_at)).scalar_subquery()
        for model in _DATED
        for aggregate in (func.min, func.max)
    ]
    bounds = session.execute(select(*ends)).one()
    long: set[str] = set()
    for index, model in enumerate(_DATED):
        first, last = bounds[2 * index], bounds[2 * index + 1]
        if first is None or last is None:
            continue
        span = (last - first).total_seconds()
        covered = (min(scope.end, last) - max(scope.start, first)).total_seconds()
        if span <= 0 or covered >= SCAN_FROM * span:
            long.add(model.__tablename__)
    return frozenset(long)


def _in(column: Any, scope: Scope) -> ColumnElement[bool]:
    if column.key == "created_at" and column.class_.__tablename__ in scope.scan:
        # SQLite's documented way to keep a term from using an index: the unary plus.
        column = UnaryExpression(column.expression, operator=custom_op("+"), type_=column.type)
    return and_(column >= scope.start, column < scope.end)


def _channel(column: Any, scope: Scope) -> ColumnElement[bool]:
    return column == scope.channel_id if scope.channel_id is not None else literal(True)


# --- casussen ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CasusCounts:
    brought_in: int = 0
    closed: int = 0
    still_open: int = 0
    open_without_contributions: int = 0
    contributions: int = 0  # bijdragen written in the period
    contributors: int = 0  # distinct people who wrote them


@dataclass(frozen=True)
class CasusItem:
    id: int
    title: str
    status: str
    channel: str | None
    inbrenger: str
    organisation: str | None
    created_at: datetime
    closed_at: datetime | None
    perspectives: tuple[str, ...]
    contributions: int
    contributing_organisations: tuple[str, ...]
    insight: str | None
    next_step: str | None


def _visible_casus() -> ColumnElement[bool]:
    return Casus.status.not_in([CasusStatus.PENDING, CasusStatus.POSTING])


def _relevant_casus(scope: Scope) -> ColumnElement[bool]:
    """Brought in or closed in the period, or still open at its end."""
    return and_(
        _visible_casus(),
        _channel(Casus.channel_id, scope),
        or_(
            _in(Casus.created_at, scope),
            _in(Casus.closed_at, scope),
            and_(Casus.status == CasusStatus.OPEN, Casus.created_at < scope.end),
        ),
    )


def _has_contribution() -> Any:
    return exists().where(Bijdrage.casus_id == Casus.id)


def casus_counts(session: Session, scope: Scope) -> CasusCounts:
    still_open = and_(Casus.status == CasusStatus.OPEN, Casus.created_at < scope.end)
    row = session.execute(
        select(
            func.count().filter(_in(Casus.created_at, scope)),
            func.count().filter(_in(Casus.closed_at, scope)),
            func.count().filter(still_open),
            func.count().filter(and_(still_open, ~_has_contribution())),
        ).where(_visible_casus(), _channel(Casus.channel_id, scope))
    ).one()
    bijdragen_query = (
        select(func.count(), func.count(func.distinct(Bijdrage.author_id)))
        .select_from(Bijdrage)
        .where(_in(Bijdrage.created_at, scope))
    )
    if scope.channel_id is not None:
        bijdragen_query = bijdragen_query.join(Casus, Casus.id == Bijdrage.casus_id).where(
            Casus.channel_id == scope.channel_id
        )
    contributions = session.execute(bijdragen_query).one()
    return CasusCounts(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        int(row[3]),
        int(contributions[0]),
        int(contributions[1]),
    )


def casus_items(session: Session, scope: Scope, limit: int) -> tuple[list[CasusItem], int]:
    """The casussen of the period (at most ``limit``) and how many there are in all.

    Order: open casussen that nobody has contributed to yet, then the other open ones (oldest
    first: they have waited longest), then the closed ones (most recently closed first).
    """
    relevant = _relevant_casus(scope)
    total = int(session.scalar(select(func.count()).select_from(Casus).where(relevant)) or 0)
    is_open = Casus.status == CasusStatus.OPEN
    priority = case((and_(is_open, ~_has_contribution()), 0), (is_open, 1), else_=2)
    contributions = (
        select(func.count()).where(Bijdrage.casus_id == Casus.id).correlate(Casus).scalar_subquery()
    )
    closed_order = case((is_open, Casus.created_at), else_=None)
    rows: Sequence[Any] = session.execute(
        select(
            Casus.id,
            Casus.title,
            Casus.status,
            Channel.name,
            Member.display_name,
            Member.platform_user_id,
            Organisation.name,
            Casus.created_at,
            Casus.closed_at,
            Casus.perspectives,
            contributions,
            Casus.insight,
            Casus.next_step,
        )
        .join(Member, Member.id == Casus.inbrenger_id)
        .join(Channel, Channel.id == Casus.channel_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(relevant)
        .order_by(priority, closed_order.asc(), Casus.closed_at.desc(), Casus.id)
        .limit(limit)
    ).all()
    ids = [r[0] for r in rows]
    orgs: dict[int, list[str]] = {}
    if ids:
        author = aliased(Member)
        for casus_id, name in session.execute(
            select(Bijdrage.casus_id, Organisation.name)
            .join(author, author.id == Bijdrage.author_id)
            .join(Organisation, Organisation.id == author.organisation_id)
            .where(Bijdrage.casus_id.in_(ids))
            .distinct()
            .order_by(Bijdrage.casus_id, Organisation.name)
        ):
            orgs.setdefault(casus_id, []).append(name)
    items = [
        CasusItem(
            id=r[0],
            title=r[1],
            status=str(r[2].value if hasattr(r[2], "value") else r[2]),
            channel=r[3],
            inbrenger=r[4] or r[5],
            organisation=r[6],
            created_at=r[7],
            closed_at=r[8],
            perspectives=tuple(r[9] or ()),
            contributions=int(r[10] or 0),
            contributing_organisations=tuple(orgs.get(r[0], ())),
            insight=r[11],
            next_step=r[12],
        )
        for r in rows
    ]
    return items, total


def perspective_counts(session: Session, scope: Scope) -> list[tuple[str, int]]:
    """How often each perspective was sought in casussen brought in during the period."""
    if session.get_bind().dialect.name == "postgresql":
        elements = func.json_array_elements_text(Casus.perspectives).table_valued("value")
    else:
        elements = func.json_each(Casus.perspectives).table_valued("value")
    value = elements.c.value
    rows: Sequence[Any] = session.execute(
        select(value, func.count())
        .select_from(Casus)
        .join(elements, literal(True))
        .where(_visible_casus(), _in(Casus.created_at, scope), _channel(Casus.channel_id, scope))
        .group_by(value)
        .order_by(func.count().desc(), value)
    ).all()
    return [(str(p), int(n)) for p, n in rows]


# --- reflection answers --------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerLine:
    question_id: str
    text: str


@dataclass(frozen=True)
class Response:
    """One person's answers to one prompt."""

    member: str
    organisation: str | None
    at: datetime
    lines: tuple[AnswerLine, ...]


@dataclass(frozen=True)
class SuccessGroup:
    run_id: int
    kind: str
    channel: str | None
    fired_at: datetime
    private: bool
    respondents: int
    responses: tuple[Response, ...]


@dataclass(frozen=True)
class ReflectionCounts:
    responses_by_kind: tuple[tuple[str, int], ...] = ()  # (kind, people × prompts answered)
    respondents: int = 0
    success_responses: int = 0
    leervragen: int = 0
    leervragen_addressed: int = 0


@dataclass(frozen=True)
class Leervraag:
    answer_id: int
    member: str
    organisation: str | None
    at: datetime
    text: str
    addressed: bool
    private: bool


def _answers_in(scope: Scope) -> ColumnElement[bool]:
    return and_(_in(Answer.created_at, scope), _channel(PromptRun.channel_id, scope))


def _last_closed_casus() -> Any:
    """Per person, when they brought in their newest casus that is now closed."""
    return (
        select(Casus.inbrenger_id.label("member_id"), func.max(Casus.created_at).label("last"))
        .where(Casus.status == CasusStatus.CLOSED)
        .group_by(Casus.inbrenger_id)
        .subquery()
    )


def _addressed(last: Any) -> ColumnElement[bool]:
    """Our definition of a leervraag that was worked on: after asking it, the same person
    brought in a casus and closed it with an inzicht (the method's way through a question).
    Written as a comparison with the newest such casus, so it needs no index on inbrenger."""
    return and_(last.c.last.is_not(None), last.c.last > Answer.created_at)


def reflection_counts(session: Session, scope: Scope) -> ReflectionCounts:
    responses = (
        select(PromptRun.kind, Answer.run_id, Answer.member_id)
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .where(_answers_in(scope))
        .distinct()
        .subquery()
    )
    by_kind: Sequence[Any] = session.execute(
        select(responses.c.kind, func.count()).group_by(responses.c.kind).order_by(responses.c.kind)
    ).all()
    respondents = session.scalar(
        select(func.count(func.distinct(Answer.member_id)))
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .where(_answers_in(scope))
    )
    last = _last_closed_casus()
    leer: Any = session.execute(
        select(func.count(), func.count().filter(_addressed(last)))
        .select_from(Answer)
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .outerjoin(last, last.c.member_id == Answer.member_id)
        .where(
            _answers_in(scope),
            PromptRun.kind == LEERVRAAG_KIND,
            Answer.question_id == LEERVRAAG_QUESTION,
        )
    ).one()
    counts = {k: int(n) for k, n in by_kind}
    return ReflectionCounts(
        responses_by_kind=tuple(counts.items()),
        respondents=int(respondents or 0),
        success_responses=sum(counts.get(k, 0) for k in SUCCESS_KINDS),
        leervragen=int(leer[0]),
        leervragen_addressed=int(leer[1]),
    )


def success_groups(
    session: Session, scope: Scope, max_groups: int, max_responses: int
) -> list[SuccessGroup]:
    """Success prompts with answers in the period, the most-answered first."""
    respondents = func.count(func.distinct(Answer.member_id))
    runs = session.execute(
        select(
            PromptRun.id,
            PromptRun.kind,
            Channel.name,
            PromptRun.fire_at,
            PromptRun.private,
            respondents,
        )
        .join(Answer, Answer.run_id == PromptRun.id)
        .join(Channel, Channel.id == PromptRun.channel_id)
        .where(_answers_in(scope), PromptRun.kind.in_(SUCCESS_KINDS))
        .group_by(PromptRun.id, PromptRun.kind, Channel.name, PromptRun.fire_at, PromptRun.private)
        .order_by(respondents.desc(), PromptRun.fire_at.desc())
        .limit(max_groups)
    ).all()
    if not runs:
        return []
    rows = session.execute(
        select(
            Answer.run_id,
            Answer.member_id,
            Member.display_name,
            Member.platform_user_id,
            Organisation.name,
            Answer.question_id,
            Answer.text,
            Answer.created_at,
        )
        .join(Member, Member.id == Answer.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(Answer.run_id.in_([r[0] for r in runs]), _in(Answer.created_at, scope))
        .order_by(Answer.run_id, Answer.created_at, Answer.member_id, Answer.id)
    ).all()
    by_run: dict[int, dict[int, tuple[str, str | None, datetime, list[AnswerLine]]]] = {}
    for run_id, member_id, name, user_id, org, question, body, at in rows:
        people = by_run.setdefault(run_id, {})
        if member_id not in people:
            if len(people) >= max_responses:
                continue
            people[member_id] = (name or user_id, org, at, [])
        people[member_id][3].append(AnswerLine(question, body))
    return [
        SuccessGroup(
            run_id=r[0],
            kind=r[1],
            channel=r[2],
            fired_at=r[3],
            private=bool(r[4]),
            respondents=int(r[5]),
            responses=tuple(
                Response(name, org, at, tuple(lines))
                for name, org, at, lines in by_run.get(r[0], {}).values()
            ),
        )
        for r in runs
    ]


def leervragen(session: Session, scope: Scope, limit: int) -> list[Leervraag]:
    """Leervragen of the period: open ones first, then the addressed ones; newest first."""
    last = _last_closed_casus()
    addressed = _addressed(last)
    rows = session.execute(
        select(
            Answer.id,
            Member.display_name,
            Member.platform_user_id,
            Organisation.name,
            Answer.created_at,
            Answer.text,
            addressed,
            PromptRun.private,
        )
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .join(Member, Member.id == Answer.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .outerjoin(last, last.c.member_id == Answer.member_id)
        .where(
            _answers_in(scope),
            PromptRun.kind == LEERVRAAG_KIND,
            Answer.question_id == LEERVRAAG_QUESTION,
        )
        .order_by(case((addressed, 1), else_=0), Answer.created_at.desc(), Answer.id)
        .limit(limit)
    ).all()
    return [Leervraag(r[0], r[1] or r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7])) for r in rows]


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


def _actions(session: Session, scope: Scope, registry: SourceRegistry) -> Select[Any]:
    """Every action in the period as (member id, moment): casus brought in, bijdrage, answer."""
    casus = select(Casus.inbrenger_id.label("member_id"), Casus.created_at.label("at")).where(
        _visible_casus(), _in(Casus.created_at, scope), _channel(Casus.channel_id, scope)
    )
    bijdrage = select(Bijdrage.author_id.label("member_id"), Bijdrage.created_at.label("at")).where(
        _in(Bijdrage.created_at, scope)
    )
    if scope.channel_id is not None:
        bijdrage = bijdrage.join(Casus, Casus.id == Bijdrage.casus_id).where(
            Casus.channel_id == scope.channel_id
        )
    # One action per person per prompt, not per question answered.
    answer = (
        select(Answer.member_id.label("member_id"), func.min(Answer.created_at).label("at"))
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .where(_answers_in(scope))
        .group_by(Answer.run_id, Answer.member_id)
    )
    extra = registry.actions(scope)
    return union_all(casus, bijdrage, answer, *extra)  # type: ignore[return-value]


def activity(
    session: Session, scope: Scope, registry: SourceRegistry | None = None
) -> tuple[list[Activity], list[tuple[str | None, int]]]:
    """Actions per week per organisation, and people per organisation, from one scan of the
    actions: they are grouped by (person, week) once (a materialized CTE), and both answers
    are aggregated from those groups in the same statement."""
    actions = _actions(session, scope, registry or SourceRegistry()).subquery()
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
    casus_organisation: str
    contributions: int
    people: int


def cross_organisation_links(session: Session, scope: Scope) -> list[Link]:
    """Bijdragen in the period by someone of one organisation to a casus of another. Grouped
    by organisation ids in SQL; the (few) names are looked up afterwards."""
    author, inbrenger = aliased(Member), aliased(Member)
    contributions = func.count()
    rows = session.execute(
        select(
            author.organisation_id,
            inbrenger.organisation_id,
            contributions,
            func.count(func.distinct(Bijdrage.author_id)),
        )
        .select_from(Bijdrage)
        .join(Casus, Casus.id == Bijdrage.casus_id)
        .join(author, author.id == Bijdrage.author_id)
        .join(inbrenger, inbrenger.id == Casus.inbrenger_id)
        .where(
            _in(Bijdrage.created_at, scope),
            _channel(Casus.channel_id, scope),
            author.organisation_id.is_not(None),
            inbrenger.organisation_id.is_not(None),
            author.organisation_id != inbrenger.organisation_id,
        )
        .group_by(author.organisation_id, inbrenger.organisation_id)
    ).all()
    names = {i: name for i, name in session.execute(select(Organisation.id, Organisation.name))}
    links = [
        Link(names[a], names[b], int(n), int(p))
        for a, b, n, p in rows
        if a is not None and b is not None
    ]
    return sorted(
        links, key=lambda k: (-k.contributions, k.contributor_organisation, k.casus_organisation)
    )


def text_sample(session: Session, scope: Scope, per_kind: int, max_chars: int) -> list[str]:
    """The newest texts of the period, bounded: at most ``per_kind`` casussen, bijdragen and
    answers each, every text cut at ``max_chars``. Enough for recurring themes, never the
    whole history in memory. Newest by id (rows are written as they happen), which the
    database reads backwards along the primary key instead of sorting the period."""
    casus_rows = session.execute(
        select(Casus.title, Casus.question, Casus.insight)
        .where(_visible_casus(), _in(Casus.created_at, scope), _channel(Casus.channel_id, scope))
        .order_by(Casus.id.desc())
        .limit(per_kind)
    ).all()
    bijdragen: Sequence[str] = session.scalars(
        select(func.substr(Bijdrage.text, 1, max_chars))
        .join(Casus, Casus.id == Bijdrage.casus_id)
        .where(_in(Bijdrage.created_at, scope), _channel(Casus.channel_id, scope))
        .order_by(Bijdrage.id.desc())
        .limit(per_kind)
    ).all()
    answers: Sequence[str] = session.scalars(
        select(func.substr(Answer.text, 1, max_chars))
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .where(_answers_in(scope))
        .order_by(Answer.id.desc())
        .limit(per_kind)
    ).all()
    texts = [" ".join(p for p in row if p)[:max_chars] for row in casus_rows]
    return [*texts, *bijdragen, *answers]


def channel_by_platform_id(session: Session, platform: str, channel_ref: str) -> Channel | None:
    return session.scalars(
        select(Channel).where(
            Channel.platform == platform,
            or_(Channel.platform_channel_id == channel_ref, Channel.name == channel_ref),
        )
    ).first()
