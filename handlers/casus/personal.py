"""What the casus feature stores about a person: the casussen they brought in (also the
anonymous ones, found by their keyed hash) and their bijdragen. Erasure keeps the casussen,
anonymised, so that the bijdragen of others keep their context; retention replaces the texts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from storage.models import Bijdrage, Casus
from storage.statements import affected


def _own(session: Session, person: Person) -> list[Casus]:
    conditions = []
    if person.member is not None:
        conditions.append(Casus.inbrenger_id == person.member.id)
    if person.hashes:
        conditions.append(Casus.inbrenger_hash.in_(person.hashes))
    if not conditions:
        return []
    return list(session.scalars(select(Casus).where(or_(*conditions)).order_by(Casus.id)))


class CasusData:
    key = "casus"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        casussen = [
            {
                "id": casus.id,
                "anonymous": casus.anonymous,
                "title": casus.title,
                "situation": casus.situation,
                "obstacle": casus.obstacle,
                "uncertainty": casus.uncertainty,
                "question": casus.question,
                "perspectives": list(casus.perspectives or []),
                "status": casus.status.value,
                "insight": casus.insight,
                "next_step": casus.next_step,
                "created_at": when(casus.created_at),
                "closed_at": when(casus.closed_at),
            }
            for casus in _own(session, person)
        ]
        bijdragen = []
        if person.member is not None:
            bijdragen = [
                {"casus_id": b.casus_id, "text": b.text, "created_at": when(b.created_at)}
                for b in session.scalars(
                    select(Bijdrage)
                    .where(Bijdrage.author_id == person.member.id)
                    .order_by(Bijdrage.id)
                )
            ]
        return {"casussen": casussen, "bijdragen": bijdragen}

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        casussen = _own(session, person)
        if casussen:
            assert person.anonymous is not None, "erasure needs the anonymous member"
            for casus in casussen:
                casus.inbrenger_id = person.anonymous.id
                casus.anonymous = True
                casus.inbrenger_hash = None
        bijdragen = 0
        if person.member is not None:
            bijdragen = affected(
                session, delete(Bijdrage).where(Bijdrage.author_id == person.member.id)
            )
        return {"casussen": len(casussen), "bijdragen": bijdragen}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        removed = expired.removed
        casussen = affected(
            session,
            update(Casus)
            .where(func.coalesce(Casus.closed_at, Casus.created_at) < expired.cutoff)
            .where(Casus.situation != removed)
            .values(
                title=expired.title,
                situation=removed,
                obstacle=None,
                uncertainty=None,
                question=removed,
                insight=None,
                next_step=None,
            )
            .execution_options(synchronize_session=False),
        )
        bijdragen = affected(
            session,
            update(Bijdrage)
            .where(Bijdrage.created_at < expired.cutoff, Bijdrage.text != removed)
            .values(text=removed)
            .execution_options(synchronize_session=False),
        )
        return {"casussen": casussen, "bijdragen": bijdragen}
