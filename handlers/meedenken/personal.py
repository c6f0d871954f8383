"""What meedenken stores about a person: the requests to think along they received and the
ones they sent. Erasure removes the requests they received and takes their name off the ones
they sent (the counts in the harvest stay). No texts: nothing for retention to replace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from storage.models import MeedenkRequest


class MeedenkenData:
    key = "meedenken"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        member = person.member
        if member is None:
            return {"meedenken": {"received": [], "sent": []}}

        def rows(column: Any) -> list[dict[str, Any]]:
            return [
                {
                    "casus_id": r.casus_id,
                    "status": r.status,
                    "created_at": when(r.created_at),
                    "sent_at": when(r.sent_at),
                }
                for r in session.scalars(
                    select(MeedenkRequest).where(column == member.id).order_by(MeedenkRequest.id)
                )
            ]

        return {
            "meedenken": {
                "received": rows(MeedenkRequest.member_id),
                "sent": rows(MeedenkRequest.asked_by_id),
            }
        }

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        member = person.member
        if member is None:
            return {}
        session.execute(delete(MeedenkRequest).where(MeedenkRequest.member_id == member.id))
        session.execute(
            update(MeedenkRequest)
            .where(MeedenkRequest.asked_by_id == member.id)
            .values(asked_by_id=None)
            .execution_options(synchronize_session=False)
        )
        return {}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        return {}
