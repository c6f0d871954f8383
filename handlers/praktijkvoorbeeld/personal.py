"""What the praktijkvoorbeeld feature stores about a person: the practices they shared, their
translations to their own practice (private ones too) and what they told about their step.

Erasure removes their translations and follow-ups; a practice they shared stays, handed to the
platform's anonymous member, so the answers of others keep their context (as a casus does).
Retention replaces the texts of all three once they are older than the retention period."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from storage.models import PraktijkVertaling, PraktijkVervolg, Praktijkvoorbeeld
from storage.statements import affected


class PraktijkData:
    key = "praktijkvoorbeeld"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        member = person.member
        if member is None:
            return {"praktijkvoorbeelden": [], "praktijk_vertalingen": []}
        practices = [
            {
                "id": p.id,
                "title": p.title,
                "aim": p.aim,
                "changed": p.changed,
                "success_factors": p.success_factors,
                "bottlenecks": p.bottlenecks,
                "process": p.process,
                "tips": p.tips,
                "created_at": when(p.created_at),
            }
            for p in session.scalars(
                select(Praktijkvoorbeeld)
                .where(Praktijkvoorbeeld.author_id == member.id)
                .order_by(Praktijkvoorbeeld.id)
            )
        ]
        followups = {
            f.translation_id: f
            for f in session.scalars(
                select(PraktijkVervolg).where(PraktijkVervolg.member_id == member.id)
            )
        }
        translations = []
        for t in session.scalars(
            select(PraktijkVertaling)
            .where(PraktijkVertaling.member_id == member.id)
            .order_by(PraktijkVertaling.id)
        ):
            f = followups.get(t.id)
            translations.append(
                {
                    "practice_id": t.practice_id,
                    "score": t.score,
                    "take_along": t.take_along,
                    "leave_out": t.leave_out,
                    "needs": t.needs,
                    "step": t.step,
                    "shared": t.shared,
                    "created_at": when(t.created_at),
                    "followup": None
                    if f is None
                    else {
                        "sent_at": when(f.sent_at),
                        "how_it_went": f.how_it_went,
                        "learned": f.learned,
                        "answered_at": when(f.answered_at),
                    },
                }
            )
        return {"praktijkvoorbeelden": practices, "praktijk_vertalingen": translations}

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        member = person.member
        if member is None:
            return {}
        own = select(PraktijkVertaling.id).where(PraktijkVertaling.member_id == member.id)
        # Explicitly, not by the cascade: SQLite enforces it only with foreign keys on.
        session.execute(
            delete(PraktijkVervolg).where(
                (PraktijkVervolg.member_id == member.id) | PraktijkVervolg.translation_id.in_(own)
            )
        )
        answers = affected(
            session, delete(PraktijkVertaling).where(PraktijkVertaling.member_id == member.id)
        )
        shared = session.scalar(
            select(Praktijkvoorbeeld.id).where(Praktijkvoorbeeld.author_id == member.id).limit(1)
        )
        kept = 0
        if shared is not None:
            assert person.anonymous is not None, "erasure needs the anonymous member"
            kept = affected(
                session,
                update(Praktijkvoorbeeld)
                .where(Praktijkvoorbeeld.author_id == member.id)
                .values(author_id=person.anonymous.id)
                .execution_options(synchronize_session=False),
            )
        return {"answers": answers, "other": kept}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        removed = expired.removed
        practices = affected(
            session,
            update(Praktijkvoorbeeld)
            .where(Praktijkvoorbeeld.created_at < expired.cutoff, Praktijkvoorbeeld.aim != removed)
            .values(
                title=expired.title,
                aim=removed,
                changed=removed,
                success_factors=None,
                bottlenecks=None,
                process=removed,
                tips=removed,
            )
            .execution_options(synchronize_session=False),
        )
        answers = affected(
            session,
            update(PraktijkVertaling)
            .where(
                PraktijkVertaling.created_at < expired.cutoff,
                (PraktijkVertaling.take_along.is_not(None))
                | (PraktijkVertaling.leave_out.is_not(None))
                | (PraktijkVertaling.needs.is_not(None))
                | (PraktijkVertaling.step.is_not(None)),
            )
            .values(take_along=None, leave_out=None, needs=None, step=None)
            .execution_options(synchronize_session=False),
        )
        answers += affected(
            session,
            update(PraktijkVervolg)
            .where(
                PraktijkVervolg.created_at < expired.cutoff,
                PraktijkVervolg.how_it_went.is_not(None),
                PraktijkVervolg.how_it_went != removed,
            )
            .values(how_it_went=removed, learned=None)
            .execution_options(synchronize_session=False),
        )
        return {"bijdragen": practices, "answers": answers}
