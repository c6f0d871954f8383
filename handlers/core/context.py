"""What a handler gets besides its event: repositories on the current unit of work, texts, the
privacy guard and the clock. Built by the runtime; handlers never build it themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from handlers.core.events import Actor
from handlers.core.guard import PrivacyGuard
from handlers.core.registry import Registry
from prompts import Texts
from storage.models import Member
from storage.repositories import (
    ChannelRepository,
    EventLog,
    MemberRepository,
    PostedMessageRepository,
    ScheduleRepository,
)


class Repositories:
    """The repositories on one unit of work, each built when first used: an event that only
    stores a thread reply builds one or two, not all of them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @cached_property
    def members(self) -> MemberRepository:
        return MemberRepository(self.session)

    @cached_property
    def channels(self) -> ChannelRepository:
        return ChannelRepository(self.session)

    @cached_property
    def posted(self) -> PostedMessageRepository:
        return PostedMessageRepository(self.session)

    @cached_property
    def events(self) -> EventLog:
        return EventLog(self.session)

    @cached_property
    def schedules(self) -> ScheduleRepository:
        return ScheduleRepository(self.session)


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

    @property
    def session(self) -> Session:
        """The unit of work of this event or step; features build their own queries on it."""
        return self.repos.session

    def member(self, actor: Actor) -> Member:
        """The stored member for this actor, created on first contact."""
        return self.repos.members.ensure(
            actor.platform,
            actor.user_id,
            display_name=actor.display_name,
            facilitator=actor.user_id in self.facilitators,
        )
