"""The werksessie feature's queries: sessions, sign-ups, posts owed to the thread, bijdragen
per phase and async reminders, and the claims of the posts and reminders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, and_, func, select, update
from sqlalchemy.orm import Session

from storage.claims import Outbox, claim_if
from storage.models import (
    Casus,
    PostedMessage,
    Werksessie,
    WerksessieBijdrage,
    WerksessieFollowup,
    WerksessieParticipant,
    WerksessiePost,
    WerksessieReminder,
    WerksessieStatus,
    utcnow,
    waiting,
)
from storage.repositories import insert_ignoring_conflict, insert_many_ignoring_conflict, thread_in

ACTIVE = (WerksessieStatus.OPEN, WerksessieStatus.RUNNING, WerksessieStatus.PAUSED)
IN_PHASE = (WerksessieStatus.RUNNING, WerksessieStatus.PAUSED)

POST = Outbox("werksessie_post", WerksessiePost, "id", "message_id", "claimed_at")
REMINDER = Outbox("werksessie_reminder", WerksessieReminder, "id", "status", "claimed_at")
FOLLOWUP = Outbox("werksessie_vervolg", WerksessieFollowup, "id", "status", "claimed_at")


def _rowcount(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


class WerksessieRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, session_id: int) -> Werksessie | None:
        return self.session.get(Werksessie, session_id)

    def active_for_casus(self, casus_id: int) -> Werksessie | None:
        return self.session.scalars(
            select(Werksessie)
            .where(Werksessie.casus_id == casus_id, Werksessie.status.in_(ACTIVE))
            .order_by(Werksessie.id.desc())
            .limit(1)
        ).one_or_none()

    def in_phase_by_thread(
        self, threads: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], Werksessie]:
        """The running (or paused) session under each casus thread of ``threads``."""
        keys = list(set(threads))
        if not keys:
            return {}
        rows = self.session.execute(
            select(
                PostedMessage.platform,
                PostedMessage.channel_ref,
                PostedMessage.message_id,
                Werksessie,
            )
            .join(Werksessie, Werksessie.casus_id == PostedMessage.object_id)
            .where(
                PostedMessage.kind == "casus",
                thread_in(),
                Werksessie.status.in_(IN_PHASE),
            )
            .order_by(Werksessie.id),
            {"threads": keys},
        ).all()
        return {(p, c, m): werksessie for p, c, m, werksessie in rows}

    def move_phase(
        self,
        werksessie: Werksessie,
        expected: int,
        *,
        phase: int,
        status: WerksessieStatus,
        started_at: datetime | None,
        ends_at: datetime | None,
        done: int,
    ) -> bool:
        """From phase ``expected`` to ``phase``; False when someone else moved it first (the
        button and the scheduler, two replicas, a double click)."""
        result = self.session.execute(
            update(Werksessie)
            .where(
                Werksessie.id == werksessie.id,
                Werksessie.phase == expected,
                Werksessie.status.in_((WerksessieStatus.OPEN, *IN_PHASE)),
            )
            .values(
                phase=phase,
                status=status,
                phase_started_at=started_at,
                phase_ends_at=ends_at,
                paused_left_seconds=None,
                phases_done=done,
                finished_at=started_at if status == WerksessieStatus.FINISHED else None,
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return False
        self.session.refresh(werksessie)
        return True

    def due(self, now: datetime) -> list[int]:
        """Sessions whose phase time is up (compared here: SQLite keeps datetimes as text)."""
        return [
            werksessie.id
            for werksessie in self.running()
            if werksessie.phase_ends_at is not None and werksessie.phase_ends_at <= now
        ]

    def running(self) -> list[Werksessie]:
        return list(
            self.session.scalars(
                select(Werksessie)
                .where(Werksessie.status == WerksessieStatus.RUNNING)
                .order_by(Werksessie.id)
            )
        )

    # --- participants ---
    def join(self, werksessie: Werksessie, member_id: int, at: datetime) -> bool:
        return insert_ignoring_conflict(
            self.session,
            WerksessieParticipant,
            {"session_id": werksessie.id, "member_id": member_id, "joined_at": at},
        )

    def participant_ids(self, werksessie: Werksessie) -> list[int]:
        return list(
            self.session.scalars(
                select(WerksessieParticipant.member_id)
                .where(WerksessieParticipant.session_id == werksessie.id)
                .order_by(WerksessieParticipant.id)
            )
        )

    # --- posts ---
    def add_post(
        self, werksessie: Werksessie, phase: int, kind: str, claimed: datetime | None
    ) -> int | None:
        inserted = insert_ignoring_conflict(
            self.session,
            WerksessiePost,
            {
                "session_id": werksessie.id,
                "phase": phase,
                "kind": kind,
                "created_at": claimed or utcnow(),
                "claimed_at": claimed,
            },
        )
        if not inserted:
            return None
        return self.session.scalars(
            select(WerksessiePost.id).where(
                WerksessiePost.session_id == werksessie.id,
                WerksessiePost.phase == phase,
                WerksessiePost.kind == kind,
            )
        ).one()

    def post(self, post_id: int) -> WerksessiePost | None:
        return self.session.get(WerksessiePost, post_id)

    def unposted(self) -> list[WerksessiePost]:
        return list(
            self.session.scalars(
                select(WerksessiePost)
                .where(WerksessiePost.message_id.is_(None), WerksessiePost.error.is_(None))
                .order_by(WerksessiePost.id)
                .limit(100)
            )
        )

    # --- bijdragen ---
    def add_bijdragen(self, rows: Sequence[dict[str, object]]) -> None:
        if rows:
            insert_many_ignoring_conflict(self.session, WerksessieBijdrage, rows)

    def add_private(self, werksessie: Werksessie, phase: int, author_id: int, text: str) -> None:
        self.session.add(
            WerksessieBijdrage(
                session_id=werksessie.id,
                phase=phase,
                author_id=author_id,
                text=text,
                private=True,
                created_at=utcnow(),
            )
        )
        self.session.flush()

    def public_bijdragen(self, session_id: int, phase: int) -> list[WerksessieBijdrage]:
        """The thread replies of a phase, in the order they were stored."""
        return list(
            self.session.scalars(
                select(WerksessieBijdrage)
                .where(
                    WerksessieBijdrage.session_id == session_id,
                    WerksessieBijdrage.phase == phase,
                    WerksessieBijdrage.private.is_(False),
                )
                .order_by(WerksessieBijdrage.id)
            )
        )

    def message_of(self, kind: str, object_id: int) -> str | None:
        """Where a post recorded as (``kind``, ``object_id``) landed."""
        return self.session.scalars(
            select(PostedMessage.message_id)
            .where(PostedMessage.kind == kind, PostedMessage.object_id == object_id)
            .order_by(PostedMessage.id.desc())
            .limit(1)
        ).one_or_none()

    def phase_post(self, session_id: int, phase: int) -> WerksessiePost | None:
        return self.session.scalars(
            select(WerksessiePost).where(
                WerksessiePost.session_id == session_id,
                WerksessiePost.phase == phase,
                WerksessiePost.kind == "fase",
            )
        ).one_or_none()

    def private_answers(self, session_id: int, phase: int) -> list[WerksessieBijdrage]:
        return list(
            self.session.scalars(
                select(WerksessieBijdrage)
                .where(
                    WerksessieBijdrage.session_id == session_id,
                    WerksessieBijdrage.phase == phase,
                    WerksessieBijdrage.private.is_(True),
                )
                .order_by(WerksessieBijdrage.id)
            )
        )

    def took_part(self, session_id: int, phase: int) -> set[int]:
        return set(
            self.session.scalars(
                select(WerksessieBijdrage.author_id).where(
                    WerksessieBijdrage.session_id == session_id,
                    WerksessieBijdrage.phase == phase,
                )
            )
        )

    # --- reminders ---
    def add_reminders(self, session_id: int, phase: int, member_ids: Iterable[int]) -> None:
        now = utcnow()
        rows: list[dict[str, object]] = [
            {
                "session_id": session_id,
                "phase": phase,
                "member_id": member_id,
                "status": "pending",
                "created_at": now,
            }
            for member_id in member_ids
        ]
        if rows:
            insert_many_ignoring_conflict(self.session, WerksessieReminder, rows)

    def unsent_reminders(self) -> list[WerksessieReminder]:
        return list(
            self.session.scalars(
                select(WerksessieReminder)
                .where(waiting(WerksessieReminder.status))
                .order_by(WerksessieReminder.id)
                .limit(200)
            )
        )

    # --- follow-ups (the next cycle) ---
    def add_followup(self, werksessie: Werksessie, member_id: int, due_at: datetime) -> bool:
        """One per session (its unique key): a second move into the phase adds nothing."""
        return insert_ignoring_conflict(
            self.session,
            WerksessieFollowup,
            {
                "session_id": werksessie.id,
                "member_id": member_id,
                "due_at": due_at,
                "status": "pending",
                "created_at": utcnow(),
            },
        )

    def unsent_followups(self) -> list[WerksessieFollowup]:
        """Not sent yet, due or not (few: one per session that reached its follow-up phase;
        the due time is compared by the caller, as ``due`` does)."""
        return list(
            self.session.scalars(
                select(WerksessieFollowup)
                .where(waiting(WerksessieFollowup.status))
                .order_by(WerksessieFollowup.due_at, WerksessieFollowup.id)
                .limit(200)
            )
        )

    def last_words(self, session_id: int, phase: int, member_id: int) -> str | None:
        """What ``member_id`` last wrote in ``phase`` (the intention, when the casus was not
        closed through its form)."""
        return self.session.scalars(
            select(WerksessieBijdrage.text)
            .where(
                WerksessieBijdrage.session_id == session_id,
                WerksessieBijdrage.phase == phase,
                WerksessieBijdrage.author_id == member_id,
            )
            .order_by(WerksessieBijdrage.id.desc())
            .limit(1)
        ).one_or_none()

    def casus(self, werksessie: Werksessie) -> Casus:
        return werksessie.casus

    def count_posts(self, session_id: int, kind: str) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(WerksessiePost)
                .where(WerksessiePost.session_id == session_id, WerksessiePost.kind == kind)
            )
            or 0
        )


def claim_post(session: Session, post_id: int, now: datetime, lease: timedelta) -> bool:
    """The post is still owed and nobody is posting it (a button's post in flight holds its
    claim from the request that made it)."""
    owed = and_(WerksessiePost.message_id.is_(None), WerksessiePost.error.is_(None))
    return claim_if(session, POST, post_id, owed, now, lease)
