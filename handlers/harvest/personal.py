"""What the harvest keeps about a person: the harvests they requested (when, which period,
which output). Erasure keeps the log line but forgets who asked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Expired, Person, when
from storage.models import HarvestLog
from storage.statements import affected

ERASED = "verwijderd"


class HarvestData:
    key = "harvest"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        return {
            "harvests_requested": [
                {"at": when(h.created_at), "period_start": when(h.period_start), "output": h.output}
                for h in session.scalars(
                    select(HarvestLog).where(HarvestLog.requested_by == person.requested_by)
                )
            ]
        }

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        forgotten = affected(
            session,
            update(HarvestLog)
            .where(HarvestLog.requested_by == person.requested_by)
            .values(requested_by=ERASED),
        )
        return {"other": forgotten}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        return {}
