"""What a werksessie stores about a person: the sessions they signed up for and what they
wrote in them (thread replies and private write-first answers). Erasure removes both; a session
they guided or started stays, handed to the platform's anonymous member, so the casus keeps
its history. Retention replaces the texts like every other bijdrage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from storage.models import (
    Werksessie,
    WerksessieBijdrage,
    WerksessieFollowup,
    WerksessieParticipant,
    WerksessieReminder,
)
from storage.statements import affected


class WerksessieData:
    key = "werksessie"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        member = person.member
        if member is None:
            return {"werksessies": {"sessions": [], "bijdragen": [], "followups": []}}
        sessions = [
            {
                "session_id": werksessie.id,
                "casus_id": werksessie.casus_id,
                "method": werksessie.method,
                "mode": werksessie.mode,
                "joined_at": when(joined),
                "procesbegeleider": werksessie.begeleider_id == member.id,
            }
            for werksessie, joined in session.execute(
                select(Werksessie, WerksessieParticipant.joined_at)
                .join(WerksessieParticipant, WerksessieParticipant.session_id == Werksessie.id)
                .where(WerksessieParticipant.member_id == member.id)
                .order_by(Werksessie.id)
            )
        ]
        bijdragen = [
            {
                "session_id": b.session_id,
                "phase": b.phase,
                "private": b.private,
                "text": b.text,
                "created_at": when(b.created_at),
            }
            for b in session.scalars(
                select(WerksessieBijdrage)
                .where(WerksessieBijdrage.author_id == member.id)
                .order_by(WerksessieBijdrage.id)
            )
        ]
        followups = [
            {
                "session_id": f.session_id,
                "due_at": when(f.due_at),
                "status": f.status,
                "sent_at": when(f.sent_at),
            }
            for f in session.scalars(
                select(WerksessieFollowup)
                .where(WerksessieFollowup.member_id == member.id)
                .order_by(WerksessieFollowup.id)
            )
        ]
        return {
            "werksessies": {"sessions": sessions, "bijdragen": bijdragen, "followups": followups}
        }

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        member = person.member
        if member is None:
            return {}
        bijdragen = affected(
            session, delete(WerksessieBijdrage).where(WerksessieBijdrage.author_id == member.id)
        )
        session.execute(delete(WerksessieReminder).where(WerksessieReminder.member_id == member.id))
        session.execute(delete(WerksessieFollowup).where(WerksessieFollowup.member_id == member.id))
        session.execute(
            delete(WerksessieParticipant).where(WerksessieParticipant.member_id == member.id)
        )
        led = session.scalar(
            select(Werksessie.id)
            .where(
                (Werksessie.begeleider_id == member.id) | (Werksessie.started_by_id == member.id)
            )
            .limit(1)
        )
        if led is not None:
            assert person.anonymous is not None, "erasure needs the anonymous member"
            anonymous = person.anonymous.id
            session.execute(
                update(Werksessie)
                .where(Werksessie.begeleider_id == member.id)
                .values(begeleider_id=anonymous)
            )
            session.execute(
                update(Werksessie)
                .where(Werksessie.started_by_id == member.id)
                .values(started_by_id=anonymous)
            )
        return {"bijdragen": bijdragen}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        bijdragen = affected(
            session,
            update(WerksessieBijdrage)
            .where(
                WerksessieBijdrage.created_at < expired.cutoff,
                WerksessieBijdrage.text != expired.removed,
            )
            .values(text=expired.removed)
            .execution_options(synchronize_session=False),
        )
        return {"bijdragen": bijdragen}
