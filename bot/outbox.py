"""Sending one outbox DM, shared by everything the scheduler sends on its own: prompt DMs,
reminders, welcomes (bot/scheduler.py) and speedspar round DMs (bot/speedsparren.py).

The row's states live in ``handlers/outbox.py``; this is the platform side of them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bot.messaging import NOT_SENT, PERMANENT, DeliveryFailed, Messenger
from bot.runtime import Runtime
from handlers.core.replies import Card

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxSteps:
    """The engine steps of one kind of outbox DM, each run in a transaction of its own:
    ``sending(ctx, id)`` before the call, ``unsent(ctx, id)`` when the platform proved nothing
    was posted, ``done(ctx, id, message_id, error)`` after."""

    sending: Callable[..., None]
    unsent: Callable[..., None]
    done: Callable[..., None]


async def direct_once(
    runtime: Runtime,
    semaphore: asyncio.Semaphore,
    messenger: Messenger,
    steps: OutboxSteps,
    row_id: int,
    status: str,
    user_id: str,
    card: Card,
    key: str,
) -> bool:
    """One outbox DM: a row still ``sending`` (the process died, or the answer was lost, after
    the call) is looked for by its key first; otherwise it is marked ``sending`` before the
    call. Marked after: sent, or failed for good. A transient failure leaves it for the next
    tick (back to ``pending`` when the platform proved nothing was posted)."""
    async with semaphore:
        try:
            ref = None
            if status == "sending":
                ref = await messenger.find_direct(user_id, key)
                if ref is not None:
                    log.info("%s: DM to %s was already sent", key, user_id)
            else:
                await runtime.call(steps.sending, row_id)
            if ref is None:
                ref = await messenger.direct(user_id, card, key=key)
        except DeliveryFailed as exc:
            if exc.reason in PERMANENT:
                await runtime.call(steps.done, row_id, None, exc.reason)
                log.warning("%s: DM to %s failed: %s", key, user_id, exc.reason)
            else:
                if exc.reason in NOT_SENT:
                    await runtime.call(steps.unsent, row_id)
                log.warning("%s: DM to %s postponed: %s", key, user_id, exc.reason)
            return False
        await runtime.call(steps.done, row_id, ref.message_id, None)
        return True


async def all_done(sends: Iterable[Awaitable[bool]]) -> int:
    """How many were sent. Every send finishes (or fails) before the tick ends: a send left
    running while the next tick starts could find its row "sending", miss its DM in flight,
    and send it again."""
    results = await asyncio.gather(*sends, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return sum(result is True for result in results)
