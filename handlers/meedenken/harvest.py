"""Meedenken as a harvest source: how many were asked to think along, how many of those
requests reached the person, and how many led to a bijdrage in the casus's thread (a bijdrage
of the person asked, after the request). Items: who asked whom, per pair of organisations."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from handlers.core.router import Router
from handlers.core.sections import Scope, SourceItem, SourceSection
from storage.models import Bijdrage, Casus, MeedenkRequest, Member, Organisation

KEY = "meedenken"
MAX_ITEMS = 20


def _in_scope(scope: Scope) -> Any:
    conditions = [MeedenkRequest.created_at >= scope.start, MeedenkRequest.created_at < scope.end]
    if scope.channel_id is not None:
        conditions.append(Casus.channel_id == scope.channel_id)
    return and_(*conditions)


def _led_to_bijdrage() -> Any:
    return exists().where(
        Bijdrage.casus_id == MeedenkRequest.casus_id,
        Bijdrage.author_id == MeedenkRequest.member_id,
        Bijdrage.created_at >= MeedenkRequest.created_at,
    )


class MeedenkenSource:
    key = KEY

    def collect(self, session: Session, scope: Scope) -> SourceSection:
        where = _in_scope(scope)
        base = (
            select(func.count())
            .select_from(MeedenkRequest)
            .join(Casus, Casus.id == MeedenkRequest.casus_id)
        )
        requests = int(session.scalar(base.where(where)) or 0)
        sent = int(session.scalar(base.where(where, MeedenkRequest.status == "sent")) or 0)
        answered = int(session.scalar(base.where(where, _led_to_bijdrage())) or 0)
        asked = aliased(Member)
        inbrenger = aliased(Member)
        asked_org = aliased(Organisation)
        inbrenger_org = aliased(Organisation)
        pairs = session.execute(
            select(inbrenger_org.name, asked_org.name, func.count())
            .select_from(MeedenkRequest)
            .join(Casus, Casus.id == MeedenkRequest.casus_id)
            .join(asked, asked.id == MeedenkRequest.member_id)
            .outerjoin(inbrenger, inbrenger.id == MeedenkRequest.asked_by_id)
            .outerjoin(asked_org, asked_org.id == asked.organisation_id)
            .outerjoin(inbrenger_org, inbrenger_org.id == inbrenger.organisation_id)
            .where(where)
            .group_by(inbrenger_org.name, asked_org.name)
            .order_by(func.count().desc(), inbrenger_org.name, asked_org.name)
            .limit(MAX_ITEMS)
        ).all()
        return SourceSection(
            key=KEY,
            title="oogsten.report.meedenken",
            empty="oogsten.report.meedenken_empty",
            figures=(
                ("oogsten.report.meedenken_requests", requests),
                ("oogsten.report.meedenken_sent", sent),
                ("oogsten.report.meedenken_bijdragen", answered),
            ),
            items=tuple(
                SourceItem(f"{theirs or '?'} → {other or '?'}", (str(count),))
                for theirs, other, count in pairs
            ),
        )

    def actions(self, scope: Scope) -> Select[Any]:
        """Asking someone to think along counts as an action of the one who asked."""
        return cast(
            "Select[Any]",
            select(
                MeedenkRequest.asked_by_id.label("member_id"),
                MeedenkRequest.created_at.label("at"),
            )
            .join(Casus, Casus.id == MeedenkRequest.casus_id)
            .where(_in_scope(scope), MeedenkRequest.asked_by_id.is_not(None)),
        )


def register(router: Router) -> None:
    router.harvest_section(MeedenkenSource())
