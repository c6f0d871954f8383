"""The praktijkvoorbeeld feature's queries: practices, translations (one per member and
practice), the follow-ups of the steps for tomorrow, and the outbox of those follow-up DMs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.claims import Outbox
from storage.models import (
    Channel,
    Member,
    PraktijkVertaling,
    PraktijkVervolg,
    Praktijkvoorbeeld,
    waiting,
)
from storage.repositories import insert_ignoring_conflict

FOLLOWUP = Outbox("praktijk_vervolg", PraktijkVervolg, "id", "status", "claimed_at")
# Steps named longer ago than the follow-up moment plus this are not asked about any more: a
# changed setting (or a long outage) must not flood people about old steps.
FOLLOWUP_WINDOW_DAYS = 7


class PraktijkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- practices ---
    def add(self, channel: Channel, author: Member, values: dict[str, str], at: datetime) -> int:
        practice = Praktijkvoorbeeld(
            channel_id=channel.id,
            author_id=author.id,
            title=values["titel"],
            aim=values["doel"],
            changed=values["veranderd"],
            success_factors=values.get("succesfactoren") or None,
            bottlenecks=values.get("knelpunten") or None,
            process=values["proces"],
            tips=values["tips"],
            created_at=at,
        )
        self.session.add(practice)
        self.session.flush()
        return practice.id

    def get(self, practice_id: int) -> Praktijkvoorbeeld | None:
        return self.session.get(Praktijkvoorbeeld, practice_id)

    def unrecorded(self, before: datetime) -> list[Praktijkvoorbeeld]:
        """Practices whose post was never recorded, created before ``before``."""
        rows = self.session.scalars(
            select(Praktijkvoorbeeld)
            .where(Praktijkvoorbeeld.message_id.is_(None))
            .order_by(Praktijkvoorbeeld.id)
            .limit(50)
        )
        return [p for p in rows if p.created_at < before]

    # --- translations ---
    def add_translation(
        self,
        practice: Praktijkvoorbeeld,
        member: Member,
        score: int,
        values: dict[str, str],
        shared: bool,
        at: datetime,
    ) -> PraktijkVertaling | None:
        """The member's translation; None when they already gave one (a second submission or a
        redelivered one: the unique key lets exactly one through, also when two race)."""
        inserted = insert_ignoring_conflict(
            self.session,
            PraktijkVertaling,
            {
                "practice_id": practice.id,
                "member_id": member.id,
                "score": score,
                "take_along": values.get("meenemen") or None,
                "leave_out": values.get("niet_meenemen") or None,
                "needs": values.get("nodig") or None,
                "step": values.get("stap") or None,
                "shared": shared,
                "created_at": at,
            },
        )
        if not inserted:
            return None
        return self.translation_of(practice.id, member.id)

    def translation_of(self, practice_id: int, member_id: int) -> PraktijkVertaling | None:
        return self.session.scalars(
            select(PraktijkVertaling).where(
                PraktijkVertaling.practice_id == practice_id,
                PraktijkVertaling.member_id == member_id,
            )
        ).one_or_none()

    def translation_count(self, practice_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(PraktijkVertaling)
                .where(PraktijkVertaling.practice_id == practice_id)
            )
            or 0
        )

    def translation(self, translation_id: int) -> PraktijkVertaling | None:
        return self.session.get(PraktijkVertaling, translation_id)

    # --- follow-ups ---
    def steps_due(self, named_before: datetime, named_after: datetime) -> list[PraktijkVertaling]:
        """Translations with a step named in the window, without a follow-up yet."""
        rows = self.session.scalars(
            select(PraktijkVertaling)
            .where(
                PraktijkVertaling.step.is_not(None),
                PraktijkVertaling.id.not_in(select(PraktijkVervolg.translation_id)),
            )
            .order_by(PraktijkVertaling.id)
        )
        # Compared here: SQLite keeps datetimes as text.
        return [t for t in rows if named_after < t.created_at <= named_before]

    def add_followup(self, translation: PraktijkVertaling, at: datetime) -> bool:
        return insert_ignoring_conflict(
            self.session,
            PraktijkVervolg,
            {
                "translation_id": translation.id,
                "member_id": translation.member_id,
                "status": "pending",
                "created_at": at,
            },
        )

    def unsent_followups(self) -> list[PraktijkVervolg]:
        return list(
            self.session.scalars(
                select(PraktijkVervolg)
                .where(waiting(PraktijkVervolg.status))
                .order_by(PraktijkVervolg.id)
                .limit(200)
            )
        )

    def followup(self, followup_id: int) -> PraktijkVervolg | None:
        return self.session.get(PraktijkVervolg, followup_id)


def praktijk_repo(session: Session) -> PraktijkRepository:
    return PraktijkRepository(session)
