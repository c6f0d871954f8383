"""`leerkring schedule run` (handlers/reflection/engine.py fire_now): no later tick follows in that
process, so DMs postponed for rate limiting are tried again before it returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.services import Services, build_services
from handlers.core.events import MessageRef, Place
from handlers.core.messaging import DeliveryFailed
from handlers.core.replies import Card
from handlers.reflection.chat import NewSchedule, create_schedule
from handlers.reflection.engine import fire_now
from storage.models import PromptDelivery
from tests.conftest import DatabaseTarget, make_settings
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401

PEOPLE = [f"U{n:03d}" for n in range(6)]


class RateLimitedMessenger:
    """Refuses the first ``refusals`` DMs with 'ratelimited' (the client's retries spent)."""

    platform = "slack"

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.sent: list[str] = []

    async def post(self, place: Place, content: Card, thread_id: str | None = None) -> MessageRef:
        return MessageRef("slack", place.channel_id, "1.0")

    async def direct(self, user_id: str, content: Card, key: str | None = None) -> MessageRef:
        if self.refusals > 0:
            self.refusals -= 1
            raise DeliveryFailed("ratelimited")
        self.sent.append(user_id)
        return MessageRef("slack", "D" + user_id, f"1.{len(self.sent)}")

    async def find_direct(self, user_id: str, key: str) -> MessageRef | None:
        return None  # nothing was sent before a refusal

    async def channel_members(self, place: Place) -> list[str]:
        return list(PEOPLE)


def _services(database_target: DatabaseTarget, messenger: RateLimitedMessenger) -> Services:
    services = build_services(make_settings(database_target.url))
    services.messengers.add(messenger)
    services.runtime.clock = Clock(datetime(2026, 3, 23, 9, 0, tzinfo=UTC))
    return services


def _schedule(services: Services) -> int:
    def create(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C300")
        spec = NewSchedule("succesvragen", "vrijdag 15:00", delivery="dm")
        return create_schedule(ctx, channel, spec, None).id

    return services.runtime.call_sync(create)


def _statuses(services: Services) -> list[str]:
    with services.database.session() as session:
        return list(session.scalars(select(PromptDelivery.status)))


async def test_schedule_run_retries_rate_limited_dms_until_everyone_has_one(
    database_target: DatabaseTarget,
) -> None:
    messenger = RateLimitedMessenger(refusals=4)
    services = _services(database_target, messenger)
    try:
        result = await fire_now(scheduler_for(services), _schedule(services))
        assert result.run_id is not None
        assert sorted(messenger.sent) == PEOPLE  # everyone exactly once
        assert _statuses(services) == ["sent"] * len(PEOPLE)
    finally:
        services.close()


async def test_schedule_run_stops_when_a_pass_gets_nothing_through(
    database_target: DatabaseTarget,
) -> None:
    messenger = RateLimitedMessenger(refusals=10_000)
    services = _services(database_target, messenger)
    try:
        await fire_now(scheduler_for(services), _schedule(services))
        assert messenger.sent == []
        assert messenger.refusals == 10_000 - len(PEOPLE)  # one pass, then it gave up
        assert _statuses(services) == ["pending"] * len(PEOPLE)  # left for the server's tick
    finally:
        services.close()
