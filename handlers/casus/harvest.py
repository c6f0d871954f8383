"""Casussen as a harvest source (handlers/core/sections.py): the casussen of the period with
their inzichten and next steps, the bijdragen, who contributed across organisations, and the
perspectives people sought. Counts are computed in SQL; only bounded lists come back as rows.

The section renders itself (``CasusHarvest``): the report's layout for casussen is its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from handlers.core.replies import Divider, Rich, Section
from handlers.core.reporting import html_escape as _h
from handlers.core.reporting import joined, local_day, md_escape, org_label, report_text, short
from handlers.core.router import Router
from handlers.core.sections import Highlight, Scope, SourceSection, Themes, in_channel, in_period
from prompts import Texts
from storage.models import Bijdrage, Casus, CasusStatus, Channel, Member, Organisation

KEY = "casus"
MAX_CASUS_ITEMS = 200
INSIGHTS_SHOWN = 3
WAITING_SHOWN = 5
# Card highlights: inzichten first, then (other sections') successes, then waiting casussen.
RANK_INSIGHTS = 10
RANK_WAITING = 30


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


def _t(texts: Texts, key: str, **params: str | int) -> str:
    return report_text(texts, key, **params)


@dataclass(frozen=True)
class CasusHarvest:
    """The casus section of a harvest; its fields are also read as ``harvest.casus``,
    ``harvest.casussen``, ``harvest.casussen_total`` and ``harvest.perspectives``."""

    casus: CasusCounts
    casussen: tuple[CasusItem, ...]
    casussen_total: int
    perspectives: tuple[tuple[str, int], ...]
    lead: bool = True

    @property
    def is_empty(self) -> bool:
        return self.casussen_total == 0 and self.casus.contributions == 0

    def figures(self, texts: Texts) -> list[tuple[str, str, int]]:
        c = self.casus
        rows = [
            ("brought_in", c.brought_in),
            ("closed", c.closed),
            ("open", c.still_open),
            ("open_without", c.open_without_contributions),
            ("contributions", c.contributions),
            ("contributors", c.contributors),
        ]
        return [(key, texts.get(f"oogsten.report.fig_{key}"), value) for key, value in rows]

    def _intro(self, texts: Texts) -> str:
        c = self.casus
        return _t(
            texts,
            "casussen_intro",
            brought_in=c.brought_in,
            closed=c.closed,
            open=c.still_open,
            open_without=c.open_without_contributions,
        )

    def _more(self, texts: Texts) -> str | None:
        if self.casussen_total <= len(self.casussen):
            return None
        return _t(
            texts,
            "casussen_more",
            count=texts.count("casus", self.casussen_total - len(self.casussen)),
        )

    def markdown(self, texts: Texts, zone: str) -> list[str]:
        out: list[str] = []
        add = out.append
        add(f"## {_t(texts, 'casussen')}\n")
        add(self._intro(texts) + "\n")
        for item in self.casussen:
            status = _t(texts, "status_open" if item.status == "open" else "status_closed")
            add(f"### {md_escape(item.title)} ({status})\n")
            add(
                f"- {_t(texts, 'brought_in_by')}: {md_escape(item.inbrenger)}"
                f" ({md_escape(org_label(texts, item.organisation))}),"
                f" {local_day(item.created_at, zone)}"
            )
            if item.perspectives:
                labels = ", ".join(texts.perspective_label(p) for p in item.perspectives)
                add(f"- {_t(texts, 'perspectives')}: {md_escape(labels)}")
            add(f"- {_t(texts, 'contributions')}: {item.contributions}")
            if item.contributing_organisations:
                add(
                    f"- {_t(texts, 'contributed_by')}: "
                    f"{md_escape(', '.join(item.contributing_organisations))}"
                )
            if item.insight:
                add(f"- **{_t(texts, 'insight')}:** {md_escape(item.insight)}")
            if item.next_step:
                add(f"- **{_t(texts, 'next_step')}:** {md_escape(item.next_step)}")
            add("")
        more = self._more(texts)
        if more is not None:
            add(more)
            add("")
        if not self.casussen and not self.casus.contributions:
            add(_t(texts, "none") + "\n")
        return out

    def html(self, texts: Texts, zone: str) -> list[str]:
        out: list[str] = []
        add = out.append
        add(f"<section><h2>{_h(_t(texts, 'casussen'))}</h2><p>{_h(self._intro(texts))}</p>")
        for item in self.casussen:
            is_open = item.status == "open"
            status = _t(texts, "status_open" if is_open else "status_closed")
            add(f'<article class="casus{" open" if is_open else ""}">')
            add(
                f'<h3>{_h(item.title)}<span class="badge{" open" if is_open else ""}">'
                f"{_h(status)}</span></h3><dl>"
            )
            add(
                f"<dt>{_h(_t(texts, 'brought_in_by'))}</dt><dd>{_h(item.inbrenger)} · "
                f"{_h(org_label(texts, item.organisation))} · "
                f"{local_day(item.created_at, zone)}</dd>"
            )
            if item.perspectives:
                labels = ", ".join(texts.perspective_label(p) for p in item.perspectives)
                add(f"<dt>{_h(_t(texts, 'perspectives'))}</dt><dd>{_h(labels)}</dd>")
            contributed = f"{item.contributions}"
            if item.contributing_organisations:
                contributed += " · " + ", ".join(item.contributing_organisations)
            add(f"<dt>{_h(_t(texts, 'contributions'))}</dt><dd>{_h(contributed)}</dd>")
            if item.insight:
                add(
                    f"<dt>{_h(_t(texts, 'insight'))}</dt><dd><blockquote>{_h(item.insight)}"
                    "</blockquote></dd>"
                )
            if item.next_step:
                add(f"<dt>{_h(_t(texts, 'next_step'))}</dt><dd>{_h(item.next_step)}</dd>")
            add("</dl></article>")
        more = self._more(texts)
        if more is not None:
            add(f'<p class="meta">{_h(more)}</p>')
        add("</section>")
        return out

    def csv_rows(self, texts: Texts) -> list[dict[str, object]]:
        return [
            {
                "section": "casus",
                "id": item.id,
                "date": item.created_at.isoformat(),
                "title": item.title,
                "status": item.status,
                "organisation": item.organisation,
                "count": item.contributions,
                "text": item.insight,
                "detail": item.next_step,
            }
            for item in self.casussen
        ]

    def themes(self, texts: Texts) -> Themes | None:
        if not self.perspectives:
            return None
        return Themes(
            heading=_t(texts, "themes_perspectives"),
            csv="perspective",
            entries=tuple((p, texts.perspective_label(p), n) for p, n in self.perspectives),
        )

    def card_fields(self, texts: Texts) -> list[Rich]:
        c = self.casus
        return [
            texts.rich(
                "oogsten.card.casussen",
                brought_in=c.brought_in,
                closed=c.closed,
                open=c.still_open,
            ),
            texts.rich(
                "oogsten.card.bijdragen",
                contributions=texts.count("bijdrage", c.contributions),
                contributors=texts.count("mens", c.contributors),
            ),
        ]

    def card_highlights(self, texts: Texts, zone: str) -> list[Highlight]:
        out: list[Highlight] = []
        insights = [i for i in self.casussen if i.status == "closed" and i.insight]
        if insights:
            lines = [
                texts.rich(
                    "oogsten.card.insight_item",
                    title=short(i.title, 120),
                    insight=short(i.insight or ""),
                )
                for i in insights[:INSIGHTS_SHOWN]
            ]
            section = Section(joined(texts.rich("oogsten.card.insights"), lines))
            out.append(Highlight(RANK_INSIGHTS, (Divider(), section)))
        waiting = [i for i in self.casussen if i.status == "open" and i.contributions == 0]
        if waiting:
            lines = [
                texts.rich(
                    "oogsten.card.waiting_item",
                    title=short(i.title, 150),
                    since=local_day(i.created_at, zone),
                )
                for i in waiting[:WAITING_SHOWN]
            ]
            section = Section(joined(texts.rich("oogsten.card.waiting"), lines))
            out.append(Highlight(RANK_WAITING, (section,)))
        return out

    def card_values(self) -> dict[str, int]:
        return {"brought_in": self.casus.brought_in, "contributions": self.casus.contributions}


# --- queries -------------------------------------------------------------------------------------


def _visible_casus() -> ColumnElement[bool]:
    return Casus.status.not_in([CasusStatus.PENDING, CasusStatus.POSTING])


def _relevant_casus(scope: Scope) -> ColumnElement[bool]:
    """Brought in or closed in the period, or still open at its end."""
    return and_(
        _visible_casus(),
        in_channel(Casus.channel_id, scope),
        or_(
            in_period(Casus.created_at, scope),
            in_period(Casus.closed_at, scope),
            and_(Casus.status == CasusStatus.OPEN, Casus.created_at < scope.end),
        ),
    )


def _has_contribution() -> Any:
    return exists().where(Bijdrage.casus_id == Casus.id)


def casus_counts(session: Session, scope: Scope) -> CasusCounts:
    still_open = and_(Casus.status == CasusStatus.OPEN, Casus.created_at < scope.end)
    row = session.execute(
        select(
            func.count().filter(in_period(Casus.created_at, scope)),
            func.count().filter(in_period(Casus.closed_at, scope)),
            func.count().filter(still_open),
            func.count().filter(and_(still_open, ~_has_contribution())),
        ).where(_visible_casus(), in_channel(Casus.channel_id, scope))
    ).one()
    bijdragen_query = (
        select(func.count(), func.count(func.distinct(Bijdrage.author_id)))
        .select_from(Bijdrage)
        .where(in_period(Bijdrage.created_at, scope))
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
        .where(
            _visible_casus(),
            in_period(Casus.created_at, scope),
            in_channel(Casus.channel_id, scope),
        )
        .group_by(value)
        .order_by(func.count().desc(), value)
    ).all()
    return [(str(p), int(n)) for p, n in rows]


class CasusSource:
    key = KEY

    def __init__(self, max_items: int = MAX_CASUS_ITEMS) -> None:
        self.max_items = max_items

    def collect(self, session: Session, scope: Scope) -> SourceSection:
        items, total = casus_items(session, scope, self.max_items)
        payload = CasusHarvest(
            casus=casus_counts(session, scope),
            casussen=tuple(items),
            casussen_total=total,
            perspectives=tuple(perspective_counts(session, scope)),
        )
        return SourceSection(key=KEY, title="oogsten.report.casussen", payload=payload)

    def actions(self, scope: Scope) -> list[Select[Any]]:
        """Bringing in a casus and writing a bijdrage each count as an action."""
        casus = select(Casus.inbrenger_id.label("member_id"), Casus.created_at.label("at")).where(
            _visible_casus(),
            in_period(Casus.created_at, scope),
            in_channel(Casus.channel_id, scope),
        )
        bijdrage = select(
            Bijdrage.author_id.label("member_id"), Bijdrage.created_at.label("at")
        ).where(in_period(Bijdrage.created_at, scope))
        if scope.channel_id is not None:
            bijdrage = bijdrage.join(Casus, Casus.id == Bijdrage.casus_id).where(
                Casus.channel_id == scope.channel_id
            )
        return [cast("Select[Any]", casus), cast("Select[Any]", bijdrage)]

    def links(self, scope: Scope) -> Select[Any]:
        """A bijdrage links its author to the casus's inbrenger."""
        return cast(
            "Select[Any]",
            select(Bijdrage.author_id.label("member_id"), Casus.inbrenger_id.label("owner_id"))
            .join(Casus, Casus.id == Bijdrage.casus_id)
            .where(in_period(Bijdrage.created_at, scope), in_channel(Casus.channel_id, scope)),
        )

    def sample(self, session: Session, scope: Scope, per_kind: int, max_chars: int) -> list[str]:
        """The newest casussen and bijdragen of the period, at most ``per_kind`` each, cut at
        ``max_chars``. Newest by id (rows are written as they happen), which the database reads
        backwards along the primary key instead of sorting the period."""
        casus_rows = session.execute(
            select(Casus.title, Casus.question, Casus.insight)
            .where(
                _visible_casus(),
                in_period(Casus.created_at, scope),
                in_channel(Casus.channel_id, scope),
            )
            .order_by(Casus.id.desc())
            .limit(per_kind)
        ).all()
        bijdragen: Sequence[str] = session.scalars(
            select(func.substr(Bijdrage.text, 1, max_chars))
            .join(Casus, Casus.id == Bijdrage.casus_id)
            .where(in_period(Bijdrage.created_at, scope), in_channel(Casus.channel_id, scope))
            .order_by(Bijdrage.id.desc())
            .limit(per_kind)
        ).all()
        texts = [" ".join(p for p in row if p)[:max_chars] for row in casus_rows]
        return [*texts, *bijdragen]

    def dated(self) -> tuple[Any, ...]:
        return (Casus, Bijdrage)


def register(router: Router) -> None:
    router.harvest_section(CasusSource())
