"""The speedsparren feature's queries: sessions, participants, seats, messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.claims import Outbox, claim_if
from storage.models import (
    Member,
    SpeedsparMessage,
    SpeedsparParticipant,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparStatus,
    SpeedsparTakeaway,
    utcnow,
)
from storage.repositories import insert_ignoring_conflict

if TYPE_CHECKING:
    from handlers.core.context import HandlerContext


class SpeedsparRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, speedspar: SpeedsparSession) -> SpeedsparSession:
        self.session.add(speedspar)
        self.session.flush()
        return speedspar

    def get(self, session_id: int, *, lock: bool = False) -> SpeedsparSession | None:
        query = select(SpeedsparSession).where(SpeedsparSession.id == session_id)
        if lock and self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def by_fire_key(self, fire_key: str) -> SpeedsparSession | None:
        return self.session.scalars(
            select(SpeedsparSession).where(SpeedsparSession.fire_key == fire_key)
        ).one_or_none()

    def active_in_channel(self, channel_id: int) -> SpeedsparSession | None:
        return self.session.scalars(
            select(SpeedsparSession)
            .where(
                SpeedsparSession.channel_id == channel_id,
                SpeedsparSession.status.in_(
                    [SpeedsparStatus.OPEN, SpeedsparStatus.RUNNING, SpeedsparStatus.CLOSING]
                ),
            )
            .order_by(SpeedsparSession.id.desc())
            .limit(1)
        ).one_or_none()

    def unfinished(self) -> list[SpeedsparSession]:
        """Sessions the scheduler still has work for, soon or now."""
        pending = select(SpeedsparMessage.session_id).where(
            SpeedsparMessage.status.in_(("pending", "sending"))
        )
        return list(
            self.session.scalars(
                select(SpeedsparSession)
                .where(
                    SpeedsparSession.status.in_(
                        [SpeedsparStatus.OPEN, SpeedsparStatus.RUNNING, SpeedsparStatus.CLOSING]
                    )
                    | SpeedsparSession.post_pending.is_not(None)
                    | SpeedsparSession.id.in_(pending)
                )
                .order_by(SpeedsparSession.id)
            )
        )

    # --- participants ---

    def join(self, speedspar: SpeedsparSession, member: Member) -> bool:
        """Sign up (or come back after stopping); False when already active."""
        existing = self.participant(speedspar, member)
        if existing is None:
            inserted = insert_ignoring_conflict(
                self.session,
                SpeedsparParticipant,
                {
                    "session_id": speedspar.id,
                    "member_id": member.id,
                    "user_id": member.platform_user_id,
                    "active": True,
                    "joined_at": utcnow(),
                },
            )
            return inserted
        if existing.active:
            return False
        existing.active = True
        existing.left_at = None
        self.session.flush()
        return True

    def participant(
        self, speedspar: SpeedsparSession, member: Member
    ) -> SpeedsparParticipant | None:
        return self.session.scalars(
            select(SpeedsparParticipant).where(
                SpeedsparParticipant.session_id == speedspar.id,
                SpeedsparParticipant.member_id == member.id,
            )
        ).one_or_none()

    def participants(
        self, speedspar: SpeedsparSession, *, active_only: bool = True
    ) -> list[SpeedsparParticipant]:
        query = select(SpeedsparParticipant).where(SpeedsparParticipant.session_id == speedspar.id)
        if active_only:
            query = query.where(SpeedsparParticipant.active.is_(True))
        return list(self.session.scalars(query.order_by(SpeedsparParticipant.id)))

    # --- seats (pairing history) ---

    def seat(self, values: dict[str, object]) -> None:
        insert_ignoring_conflict(self.session, SpeedsparSeat, values)

    def seats(self, speedspar: SpeedsparSession, round_: int | None = None) -> list[SpeedsparSeat]:
        query = select(SpeedsparSeat).where(SpeedsparSeat.session_id == speedspar.id)
        if round_ is not None:
            query = query.where(SpeedsparSeat.round == round_)
        return list(
            self.session.scalars(
                query.order_by(SpeedsparSeat.round, SpeedsparSeat.group_no, SpeedsparSeat.position)
            )
        )

    def recent_session_ids(self, before: SpeedsparSession, count: int) -> list[int]:
        with_seats = select(SpeedsparSeat.session_id).distinct()
        return list(
            self.session.scalars(
                select(SpeedsparSession.id)
                .where(SpeedsparSession.id != before.id, SpeedsparSession.id.in_(with_seats))
                .order_by(SpeedsparSession.id.desc())
                .limit(count)
            )
        )

    def seats_of_sessions(self, session_ids: Sequence[int]) -> list[SpeedsparSeat]:
        if not session_ids:
            return []
        return list(
            self.session.scalars(
                select(SpeedsparSeat).where(SpeedsparSeat.session_id.in_(list(session_ids)))
            )
        )

    # --- direct messages ---

    def add_messages(
        self, speedspar: SpeedsparSession, kind: str, round_: int, user_ids: Iterable[str]
    ) -> None:
        for user_id in user_ids:
            insert_ignoring_conflict(
                self.session,
                SpeedsparMessage,
                {
                    "session_id": speedspar.id,
                    "kind": kind,
                    "round": round_,
                    "user_id": user_id,
                    "status": "pending",
                },
            )

    def messages(
        self, speedspar: SpeedsparSession, status: str | None = None
    ) -> list[SpeedsparMessage]:
        query = select(SpeedsparMessage).where(SpeedsparMessage.session_id == speedspar.id)
        if status is not None:
            query = query.where(SpeedsparMessage.status == status)
        return list(self.session.scalars(query.order_by(SpeedsparMessage.id)))

    def unsent(self, speedspar: SpeedsparSession) -> list[SpeedsparMessage]:
        """Not sent yet, or being sent when a process died (it may have arrived)."""
        query = select(SpeedsparMessage).where(
            SpeedsparMessage.session_id == speedspar.id,
            SpeedsparMessage.status.in_(("pending", "sending")),
        )
        return list(self.session.scalars(query.order_by(SpeedsparMessage.id)))

    def message(self, message_id: int) -> SpeedsparMessage | None:
        return self.session.get(SpeedsparMessage, message_id)

    # --- takeaways ---

    def save_takeaway(self, speedspar: SpeedsparSession, member: Member, text: str) -> None:
        existing = self.session.scalars(
            select(SpeedsparTakeaway).where(
                SpeedsparTakeaway.session_id == speedspar.id,
                SpeedsparTakeaway.member_id == member.id,
            )
        ).one_or_none()
        if existing is not None:
            existing.text = text
        else:
            self.session.add(
                SpeedsparTakeaway(
                    session_id=speedspar.id, member_id=member.id, text=text, created_at=utcnow()
                )
            )
        self.session.flush()

    def takeaways(self, speedspar: SpeedsparSession) -> list[SpeedsparTakeaway]:
        return list(
            self.session.scalars(
                select(SpeedsparTakeaway)
                .where(SpeedsparTakeaway.session_id == speedspar.id)
                .order_by(SpeedsparTakeaway.id)
            )
        )


def speedspar_repo(ctx: HandlerContext) -> SpeedsparRepository:
    return SpeedsparRepository(ctx.session)


# --- what the scheduler claims before it sends (storage/claims.py) ---

SPEEDSPAR_DM = Outbox("speedspar DM", SpeedsparMessage, "id", "status", "claimed_at")
SESSION_POST = Outbox("speedspar post", SpeedsparSession, "id", "post_pending", "post_claimed_at")


def claim_session_post(
    session: Session, session_id: int, kind: str, now: datetime, lease: timedelta
) -> bool:
    """Take a speedspar session's pending channel post (``kind``: announcement, summary,
    cancelled) while it is still pending and nobody else is at it."""
    owed = SpeedsparSession.post_pending == kind
    return claim_if(session, SESSION_POST, session_id, owed, now, lease)
