"""The profiles feature's queries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.claims import Outbox
from storage.models import (
    Member,
    MemberProfile,
    Organisation,
    utcnow,
)
from storage.repositories import insert_ignoring_conflict

if TYPE_CHECKING:
    from handlers.core.context import HandlerContext


class ProfileRepository:
    """Member profiles and organisations (for onboarding, /profiel and the CSV import)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, member: Member) -> MemberProfile | None:
        return self.session.get(MemberProfile, member.id)

    def ensure(self, member: Member) -> MemberProfile:
        insert_ignoring_conflict(
            self.session, MemberProfile, {"member_id": member.id, "expertise": []}
        )
        profile = self.session.get(MemberProfile, member.id)
        assert profile is not None
        return profile

    def welcome_once(self, member: Member, at: datetime) -> bool:
        """Mark the person welcomed; True only for the one call that did it (race-safe)."""
        self.ensure(member)
        result = self.session.execute(
            update(MemberProfile)
            .where(MemberProfile.member_id == member.id, MemberProfile.welcomed_at.is_(None))
            .values(welcomed_at=at),
            execution_options={"preserve_rowcount": True, "synchronize_session": False},
        )
        self.session.expire_all()
        return result.rowcount > 0  # type: ignore[attr-defined]

    def organisation(self, name: str) -> Organisation:
        """The organisation with this name (case-insensitive), created when new."""
        found = self.find_organisation(name)
        if found is not None:
            return found
        insert_ignoring_conflict(self.session, Organisation, {"name": name, "created_at": utcnow()})
        found = self.find_organisation(name)
        assert found is not None
        return found

    def find_organisation(self, name: str) -> Organisation | None:
        return self.session.scalars(
            select(Organisation)
            .where(func.lower(Organisation.name) == name.lower())
            .order_by(Organisation.id)
            .limit(1)
        ).one_or_none()


def profile_repo(ctx: HandlerContext) -> ProfileRepository:
    return ProfileRepository(ctx.session)


WELCOME_DM = Outbox("welcome", MemberProfile, "member_id", "welcome_status", "welcome_claimed_at")
