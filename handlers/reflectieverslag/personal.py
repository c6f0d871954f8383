"""What the reflectieverslag stores about a person: their reflections on werksessies and how
long they keep them. ``/mijn-gegevens`` exports both; erasure removes both.

Retention: the reflections are the person's own record for their re-registration, so they
are kept for the longer of the community's retention period and the person's own period (five
years unless they chose longer with ``/reflectieverslag bewaar``). Older texts are replaced
like every other text; the rows stay, with their dates and roles, so the record still counts
the sessions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from handlers.reflectieverslag.queries import DEFAULT_YEARS
from storage.models import ReflectieBewaring, WerksessieReflectie, utcnow
from storage.statements import affected

TEXTS = ("technisch", "normatief", "persoonlijk")


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


class ReflectieverslagData:
    key = "reflectieverslag"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        member = person.member
        if member is None:
            return {"werksessie_reflecties": [], "reflectieverslag_bewaartermijn_jaren": None}
        rows = session.scalars(
            select(WerksessieReflectie)
            .where(WerksessieReflectie.member_id == member.id)
            .order_by(WerksessieReflectie.id)
        )
        keep = session.get(ReflectieBewaring, member.id)
        return {
            "werksessie_reflecties": [
                {
                    "session_id": row.session_id,
                    "role": row.role,
                    "asked": row.status,
                    "asked_at": when(row.sent_at),
                    "technisch_instrumenteel": row.technisch,
                    "normatief": row.normatief,
                    "persoonlijk": row.persoonlijk,
                    "answered_at": when(row.answered_at),
                }
                for row in rows
            ],
            "reflectieverslag_bewaartermijn_jaren": keep.years if keep else DEFAULT_YEARS,
        }

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        member = person.member
        if member is None:
            return {}
        answered = affected(
            session,
            delete(WerksessieReflectie).where(
                WerksessieReflectie.member_id == member.id,
                WerksessieReflectie.answered_at.is_not(None),
            ),
        )
        session.execute(
            delete(WerksessieReflectie).where(WerksessieReflectie.member_id == member.id)
        )
        session.execute(delete(ReflectieBewaring).where(ReflectieBewaring.member_id == member.id))
        return {"answers": answered}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        now = expired.now or utcnow()
        kept = {
            member_id: years
            for member_id, years in session.execute(
                select(ReflectieBewaring.member_id, ReflectieBewaring.years)
            )
        }
        removed = expired.removed
        candidates = session.scalars(
            select(WerksessieReflectie).where(
                WerksessieReflectie.answered_at < expired.cutoff,
                or_(
                    *(
                        (getattr(WerksessieReflectie, name).is_not(None))
                        & (getattr(WerksessieReflectie, name) != removed)
                        for name in TEXTS
                    )
                ),
            )
        )
        purged = 0
        for row in candidates:
            own = years_before(now, kept.get(row.member_id, DEFAULT_YEARS))
            if row.answered_at is None or row.answered_at >= own:
                continue  # still within the person's own period
            for name in TEXTS:
                if getattr(row, name) is not None:
                    setattr(row, name, removed)
            purged += 1
        session.flush()
        return {"answers": purged}
