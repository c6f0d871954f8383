"""What speedsparren stores about a person: the sessions they joined, their seats (round and
group, never the partner) and their takeaways."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from storage.models import (
    SpeedsparMessage,
    SpeedsparParticipant,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparTakeaway,
)
from storage.statements import affected


class SpeedsparData:
    key = "speedsparren"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        member = person.member
        if member is None:
            return {"speedsparren": {"sessions": [], "seats": [], "takeaways": []}}
        sessions = [
            {
                "session_id": p.session_id,
                "joined_at": when(p.joined_at),
                "left_at": when(p.left_at),
            }
            for p in session.scalars(
                select(SpeedsparParticipant).where(SpeedsparParticipant.member_id == member.id)
            )
        ]
        seats = [
            {"session_id": s.session_id, "round": s.round, "group": s.group_no}
            for s in session.scalars(
                select(SpeedsparSeat).where(SpeedsparSeat.member_id == member.id)
            )
        ]
        takeaways = [
            {"session_id": t.session_id, "text": t.text, "created_at": when(t.created_at)}
            for t in session.scalars(
                select(SpeedsparTakeaway).where(SpeedsparTakeaway.member_id == member.id)
            )
        ]
        return {"speedsparren": {"sessions": sessions, "seats": seats, "takeaways": takeaways}}

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        messages = affected(
            session, delete(SpeedsparMessage).where(SpeedsparMessage.user_id == person.user_id)
        )
        member = person.member
        if member is None:
            return {"other": messages}
        takeaways = affected(
            session, delete(SpeedsparTakeaway).where(SpeedsparTakeaway.member_id == member.id)
        )
        session.execute(delete(SpeedsparSeat).where(SpeedsparSeat.member_id == member.id))
        session.execute(
            delete(SpeedsparParticipant).where(SpeedsparParticipant.member_id == member.id)
        )
        session.execute(
            update(SpeedsparSession)
            .where(SpeedsparSession.created_by_id == member.id)
            .values(created_by_id=None)
        )
        return {"takeaways": takeaways, "other": messages}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        takeaways = affected(
            session,
            update(SpeedsparTakeaway)
            .where(
                SpeedsparTakeaway.created_at < expired.cutoff,
                SpeedsparTakeaway.text != expired.removed,
            )
            .values(text=expired.removed)
            .execution_options(synchronize_session=False),
        )
        return {"takeaways": takeaways}
