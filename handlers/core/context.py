"""What a handler gets besides its event: repositories on the current unit of work, texts, the
privacy guard and the clock. Built by the runtime; handlers never build it themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.core.events import Actor
from handlers.core.registry import Registry
from handlers.privacy.guard import PrivacyGuard
from prompts import Texts
from storage.models import Member
from storage.repositories import (
    BijdrageRepository,
    CasusRepository,
    ChannelRepository,
    ConversationReferenceRepository,
    EventLog,
    MemberRepository,
    PostedMessageRepository,
    ProfileRepository,
    RunRepository,
    ScheduleRepository,
    SpeedsparRepository,
)


class Repositories:
    def __init__(self, session: Session) -> None:
        self.members = MemberRepository(session)
        self.channels = ChannelRepository(session)
        self.casussen = CasusRepository(session)
        self.bijdragen = BijdrageRepository(session)
        self.posted = PostedMessageRepository(session)
        self.events = EventLog(session)
        self.conversations = ConversationReferenceRepository(session)
        self.schedules = ScheduleRepository(session)
        self.runs = RunRepository(session)
        self.profiles = ProfileRepository(session)
        self.speedspar = SpeedsparRepository(session)


@dataclass
class HandlerContext:
    repos: Repositories
    texts: Texts
    guard: PrivacyGuard
    facilitators: frozenset[str]
    now: Callable[[], datetime]
    zone: str = "Europe/Amsterdam"
    # LEERKRING_HMAC_SECRET: anonymous casussen are offered only when it is set.
    hmac_secret: bytes | None = None
    # What the features declared (schedule kinds, harvest sections, scheduler steps).
    registry: Registry = field(default_factory=Registry)

    def member(self, actor: Actor) -> Member:
        """The stored member for this actor, created on first contact."""
        return self.repos.members.ensure(
            actor.platform,
            actor.user_id,
            display_name=actor.display_name,
            facilitator=actor.user_id in self.facilitators,
        )
