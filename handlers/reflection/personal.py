"""What the reflection feature stores about a person: their answers to prompts and the
prompts delivered to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from storage.models import Answer, PromptDelivery
from storage.statements import affected


class ReflectionData:
    key = "reflection"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        answers = []
        if person.member is not None:
            answers = [
                {
                    "run_id": a.run_id,
                    "question_id": a.question_id,
                    "text": a.text,
                    "late": a.late,
                    "created_at": when(a.created_at),
                }
                for a in session.scalars(
                    select(Answer).where(Answer.member_id == person.member.id).order_by(Answer.id)
                )
            ]
        prompts = [
            {"run_id": d.run_id, "status": d.status, "sent_at": when(d.sent_at)}
            for d in session.scalars(
                select(PromptDelivery).where(PromptDelivery.user_id == person.user_id)
            )
        ]
        return {"reflection_answers": answers, "prompts_received": prompts}

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        deliveries = affected(
            session, delete(PromptDelivery).where(PromptDelivery.user_id == person.user_id)
        )
        answers = 0
        if person.member is not None:
            answers = affected(session, delete(Answer).where(Answer.member_id == person.member.id))
        return {"answers": answers, "other": deliveries}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        answers = affected(
            session,
            update(Answer)
            .where(Answer.created_at < expired.cutoff, Answer.text != expired.removed)
            .values(text=expired.removed)
            .execution_options(synchronize_session=False),
        )
        return {"answers": answers}
