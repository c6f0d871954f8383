"""Speedsparren as a harvest source: sessions held in the period, who took part, how many
conversations crossed organisations, and the takeaways ("Wat neem je mee?").

Registered by the feature (``register`` below). Figure labels are text keys; the report
looks them up in the texts.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Integer, Select, and_, case, func, select
from sqlalchemy.orm import Session

from handlers.core.router import Router
from handlers.core.sections import Scope, SourceItem, SourceSection
from storage.models import (
    Member,
    Organisation,
    SpeedsparParticipant,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparStatus,
    SpeedsparTakeaway,
)

KEY = "speedsparren"
HELD = (SpeedsparStatus.RUNNING, SpeedsparStatus.CLOSING, SpeedsparStatus.CLOSED)
MAX_TAKEAWAYS = 30
MAX_TEXTS = 60


def _held(scope: Scope) -> Any:
    conditions = [
        SpeedsparSession.status.in_(HELD),
        SpeedsparSession.starts_at >= scope.start,
        SpeedsparSession.starts_at < scope.end,
    ]
    if scope.channel_id is not None:
        conditions.append(SpeedsparSession.channel_id == scope.channel_id)
    return and_(*conditions)


class SpeedsparSource:
    key = KEY

    def collect(self, session: Session, scope: Scope) -> SourceSection:
        held = _held(scope)
        sessions = int(
            session.scalar(select(func.count()).select_from(SpeedsparSession).where(held)) or 0
        )
        people = int(
            session.scalar(
                select(func.count(func.distinct(SpeedsparParticipant.member_id)))
                .join(SpeedsparSession, SpeedsparSession.id == SpeedsparParticipant.session_id)
                .where(held)
            )
            or 0
        )
        groups = (
            select(
                SpeedsparSeat.session_id,
                SpeedsparSeat.round,
                SpeedsparSeat.group_no,
                func.max(case((SpeedsparSeat.cross_org.is_(True), 1), else_=0)).label("cross"),
            )
            .join(SpeedsparSession, SpeedsparSession.id == SpeedsparSeat.session_id)
            .where(held)
            .group_by(SpeedsparSeat.session_id, SpeedsparSeat.round, SpeedsparSeat.group_no)
            .subquery()
        )
        conversations, crossing = session.execute(
            select(
                func.count(), func.coalesce(func.sum(groups.c.cross), 0).cast(Integer)
            ).select_from(groups)
        ).one()
        takeaways = session.execute(
            select(
                Member.display_name,
                Member.platform_user_id,
                Organisation.name,
                SpeedsparTakeaway.text,
                SpeedsparTakeaway.created_at,
            )
            .join(SpeedsparSession, SpeedsparSession.id == SpeedsparTakeaway.session_id)
            .join(Member, Member.id == SpeedsparTakeaway.member_id)
            .outerjoin(Organisation, Organisation.id == Member.organisation_id)
            .where(held)
            .order_by(SpeedsparTakeaway.id.desc())
            .limit(MAX_TEXTS)
        ).all()
        total_takeaways = int(
            session.scalar(
                select(func.count())
                .select_from(SpeedsparTakeaway)
                .join(SpeedsparSession, SpeedsparSession.id == SpeedsparTakeaway.session_id)
                .where(held)
            )
            or 0
        )
        items = tuple(
            SourceItem(f"{name or user_id}" + (f" ({org})" if org else ""), (text,), at)
            for name, user_id, org, text, at in takeaways[:MAX_TAKEAWAYS]
        )
        return SourceSection(
            key=KEY,
            title="oogsten.report.speedsparren",
            empty="oogsten.report.speedsparren_empty",
            figures=(
                ("oogsten.report.speedspar_sessions", sessions),
                ("oogsten.report.speedspar_people", people),
                ("oogsten.report.speedspar_conversations", conversations),
                ("oogsten.report.speedspar_cross", crossing),
                ("oogsten.report.speedspar_takeaways", total_takeaways),
            ),
            items=items,
            texts=tuple(text for _, _, _, text, _ in takeaways),
        )

    def actions(self, scope: Scope) -> Select[Any]:
        """Taking part in a session counts as one action, at its start."""
        return cast(
            "Select[Any]",
            select(
                SpeedsparParticipant.member_id.label("member_id"),
                SpeedsparSession.starts_at.label("at"),
            )
            .join(SpeedsparSession, SpeedsparSession.id == SpeedsparParticipant.session_id)
            .where(_held(scope)),
        )


def register(router: Router) -> None:
    router.harvest_section(SpeedsparSource())
