"""The profiles feature's scheduler step: the welcome DM owed to someone who joined."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.core.messaging import DeliveryFailed, outbox_key
from handlers.core.registry import Engine, EngineStep
from handlers.core.router import Router
from handlers.core.sending import OutboxSteps, all_done, direct_once
from handlers.profiles import chat as profiles
from handlers.profiles import queries as outboxes


def _welcomed(ctx: Any, member_id: int, message_id: str | None, error: str | None) -> None:
    profiles.mark_welcomed(ctx, member_id, error)


# The answer to the person's own step (they just joined a channel): sent on any day.
WELCOME_DM = OutboxSteps(outboxes.WELCOME_DM, _welcomed, live=True)


async def welcome_step(engine: Engine) -> Mapping[str, int]:
    welcomed = await send_welcomes(engine)
    return {"welcomed": welcomed} if welcomed else {}


async def send_welcomes(engine: Engine) -> int:
    """Welcome DMs owed to people who joined a channel: the same outbox steps as a prompt
    DM (``sending`` before the call, looked for by key after a lost answer, marked after),
    so one the platform refused for a moment goes out at a later tick, and only once."""
    welcomes = await engine.call(profiles.pending_welcomes)
    sends = []
    for item in welcomes:
        try:
            messenger = engine.messengers.get(item.platform)
        except DeliveryFailed:
            continue  # stays pending until the platform is connected
        key = outbox_key("welcome", item.member_id)
        sends.append(
            direct_once(
                engine.runtime,
                engine.semaphore,
                messenger,
                WELCOME_DM,
                item.member_id,
                item.status,
                item.user_id,
                item.card,
                key,
            )
        )
    return await all_done(sends)


def register(router: Router) -> None:
    router.engine_step(EngineStep("profiles.welcome", welcome_step, order=50))
