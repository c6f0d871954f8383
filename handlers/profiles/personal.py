"""What the profile holds about a person: their expertise, working days, whether they may be
asked to think along, and when they were welcomed. It is
exported with the member and erased with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from handlers.core import workdays
from handlers.core.personal import Expired, Person, when
from storage.models import MemberProfile


class ProfileData:
    key = "profiles"

    def export(self, session: Session, person: Person) -> Mapping[str, Any]:
        if person.member is None:
            return {}
        profile = session.get(MemberProfile, person.member.id)
        return {
            "member": {
                "expertise": list(profile.expertise or []) if profile else [],
                "welcomed_at": when(profile.welcomed_at) if profile else None,
                "work_days": sorted(workdays.parse(profile.work_days if profile else None)),
                "open_to_requests": profile.open_to_requests if profile else True,
            }
        }

    def erase(self, session: Session, person: Person) -> Mapping[str, int]:
        if person.member is not None:
            session.execute(
                delete(MemberProfile).where(MemberProfile.member_id == person.member.id)
            )
        return {}

    def purge(self, session: Session, expired: Expired) -> Mapping[str, int]:
        return {}
