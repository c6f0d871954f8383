"""The reflection feature's queries: prompt runs, their recipients and answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.claims import Outbox, claim_if
from storage.models import (
    Answer,
    Member,
    PromptDelivery,
    PromptRun,
    RunStatus,
    utcnow,
    waiting,
)
from storage.repositories import insert_ignoring_conflict

if TYPE_CHECKING:
    from handlers.core.context import HandlerContext


class RunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, values: dict[str, object]) -> PromptRun | None:
        """Insert a run under its unique fire key; None when that key exists already."""
        inserted = insert_ignoring_conflict(
            self.session, PromptRun, {"created_at": utcnow(), **values}
        )
        if not inserted:
            return None
        return self.session.scalars(
            select(PromptRun).where(PromptRun.fire_key == values["fire_key"])
        ).one()

    def get(self, run_id: int) -> PromptRun | None:
        return self.session.get(PromptRun, run_id)

    def by_key(self, fire_key: str) -> PromptRun | None:
        return self.session.scalars(
            select(PromptRun).where(PromptRun.fire_key == fire_key)
        ).one_or_none()

    def needing_delivery(self) -> list[PromptRun]:
        """Open runs whose prompt is not out yet or whose fan-out was interrupted."""
        pending = select(PromptDelivery.run_id).where(waiting(PromptDelivery.status))
        return list(
            self.session.scalars(
                select(PromptRun)
                .where(
                    PromptRun.status == RunStatus.OPEN,
                    (PromptRun.recipients_listed.is_(False)) | PromptRun.id.in_(pending),
                )
                .order_by(PromptRun.id)
            )
        )

    def due_for_reminder(self, now: datetime) -> list[PromptRun]:
        return list(
            self.session.scalars(
                select(PromptRun).where(
                    PromptRun.status == RunStatus.OPEN,
                    PromptRun.reminded.is_(False),
                    PromptRun.recipients_listed.is_(True),
                    PromptRun.remind_at <= now,
                    PromptRun.closes_at > now,
                )
            )
        )

    def due_for_closing(self, now: datetime) -> list[PromptRun]:
        return list(
            self.session.scalars(
                select(PromptRun).where(
                    PromptRun.status == RunStatus.OPEN, PromptRun.closes_at <= now
                )
            )
        )

    def for_channel(self, channel_id: int, limit: int = 20) -> list[PromptRun]:
        return list(
            self.session.scalars(
                select(PromptRun)
                .where(PromptRun.channel_id == channel_id)
                .order_by(PromptRun.id.desc())
                .limit(limit)
            )
        )

    # --- deliveries ---

    def add_recipients(self, run: PromptRun, user_ids: Iterable[str], status: str) -> None:
        for user_id in user_ids:
            insert_ignoring_conflict(
                self.session,
                PromptDelivery,
                {"run_id": run.id, "user_id": user_id, "status": status},
            )
        run.recipients_listed = True
        self.session.flush()

    def deliveries(self, run: PromptRun, status: str | None = None) -> list[PromptDelivery]:
        query = select(PromptDelivery).where(PromptDelivery.run_id == run.id)
        if status is not None:
            query = query.where(PromptDelivery.status == status)
        return list(self.session.scalars(query.order_by(PromptDelivery.id)))

    def delivery(self, delivery_id: int) -> PromptDelivery | None:
        return self.session.get(PromptDelivery, delivery_id)

    # --- answers ---

    def save_answer(
        self, run: PromptRun, member: Member, question_id: str, text: str, late: bool
    ) -> None:
        existing = self.session.scalars(
            select(Answer).where(
                Answer.run_id == run.id,
                Answer.member_id == member.id,
                Answer.question_id == question_id,
            )
        ).one_or_none()
        if existing is not None:
            existing.text = text
            existing.late = late
        else:
            self.session.add(
                Answer(
                    run_id=run.id,
                    member_id=member.id,
                    question_id=question_id,
                    text=text,
                    late=late,
                    created_at=utcnow(),
                )
            )
        self.session.flush()

    def add_to_answer(
        self, run: PromptRun, member: Member, question_id: str, text: str, late: bool
    ) -> None:
        """A further reply in the prompt's thread: added below what the person already
        answered to that question, so nothing they wrote is lost."""
        existing = self.session.scalars(
            select(Answer).where(
                Answer.run_id == run.id,
                Answer.member_id == member.id,
                Answer.question_id == question_id,
            )
        ).one_or_none()
        if existing is None:
            self.save_answer(run, member, question_id, text, late)
        else:
            self.save_answer(run, member, question_id, f"{existing.text}\n\n{text}", existing.late)

    def answers(self, run: PromptRun) -> list[Answer]:
        return list(
            self.session.scalars(select(Answer).where(Answer.run_id == run.id).order_by(Answer.id))
        )

    def answered_user_ids(self, run: PromptRun) -> set[str]:
        rows = self.session.scalars(
            select(Member.platform_user_id)
            .join(Answer, Answer.member_id == Member.id)
            .where(Answer.run_id == run.id)
        )
        return set(rows)


def run_repo(ctx: HandlerContext) -> RunRepository:
    return RunRepository(ctx.session)


# --- what the scheduler claims before it sends (storage/claims.py) ---

PROMPT_DM = Outbox("prompt DM", PromptDelivery, "id", "status", "claimed_at")
REMINDER_DM = Outbox("reminder", PromptDelivery, "id", "reminder_status", "reminder_claimed_at")
SUMMARY = Outbox("summary", PromptRun, "id", "summary_status", "summary_claimed_at", "posting")
RUN_POST = Outbox("prompt post", PromptRun, "id", "recipients_listed", "claimed_at")


def claim_run(session: Session, run_id: int, now: datetime, lease: timedelta) -> bool:
    """Take the posting of a run's prompt and the listing of its recipients: only while the
    recipients are not listed yet, and nobody else is at it (or their claim expired)."""
    return claim_if(session, RUN_POST, run_id, PromptRun.recipients_listed.is_(False), now, lease)
