"""Runs speedspar sessions: advances them at their boundaries and fans out the direct messages.

Driven from the ReflectionScheduler: its tick calls ``SpeedsparRunner.tick`` (under the same
leader lock), and for precision an APScheduler ``DateTrigger`` job is planned at every
session's next boundary (start, end of a round, end of the takeaway window), so a round's
fan-out starts at its time rather than at the next tick. That job only wakes the scheduler's
tick; a restart finds the same boundaries in the database and plans them again.

The fan-out is the one of bot/scheduler.py: each DM is a row written before sending and
marked after, sent with bounded concurrency through ``Messengers``; a transient failure
leaves the row pending for the next tick, and a round's unsent DMs expire when it ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.messaging import PERMANENT, DeliveryFailed, Messengers, find_earlier_post
from bot.outbox import OutboxSteps, all_done, claims_of, direct_once
from bot.runtime import Runtime
from handlers.speedsparren import chat as speedsparren
from storage import claims

log = logging.getLogger(__name__)

MAX_STEPS = 20  # boundaries one session may pass in one go (guards against a loop)


SPEEDSPAR_DM = OutboxSteps(claims.SPEEDSPAR_DM, speedsparren.mark_unsent, speedsparren.mark_sent)


class SpeedsparRunner:
    def __init__(
        self,
        runtime: Runtime,
        messengers: Messengers,
        semaphore: asyncio.Semaphore,
        wake: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.runtime = runtime
        self.messengers = messengers
        self._semaphore = semaphore
        self._wake = wake
        self._scheduler: AsyncIOScheduler | None = None
        self._planned: dict[int, datetime] = {}

    def attach(self, scheduler: AsyncIOScheduler) -> None:
        global _current
        _current = self
        self._scheduler = scheduler

    def detach(self) -> None:
        global _current
        if _current is self:
            _current = None
        self._scheduler = None
        self._planned.clear()

    async def tick(self) -> dict[str, int]:
        """Everything due for speedsparren, once. The caller holds the leader lock."""
        stats = {"sessions": 0, "sent": 0, "posted": 0}
        for plan in await self.runtime.call(speedsparren.plans):
            if plan.work_now:
                stats["sessions"] += 1
                sent, posted = await self.run_session(plan.session_id)
                stats["sent"] += sent
                stats["posted"] += posted
        self.plan_jobs(await self.runtime.call(speedsparren.plans))
        return stats

    async def run_session(self, session_id: int) -> tuple[int, int]:
        for _ in range(MAX_STEPS):
            if not await self.runtime.call(speedsparren.advance, session_id):
                break
        sent = await self.fan_out(session_id)
        posted = await self.post(session_id)
        return sent, posted

    async def fan_out(self, session_id: int) -> int:
        outgoing = await self.runtime.call(speedsparren.pending_messages, session_id)

        sends = []
        for item in outgoing:
            try:
                messenger = self.messengers.get(item.platform)
            except DeliveryFailed as exc:  # platform_off: nothing will carry it
                await self.runtime.call(speedsparren.mark_sent, item.message_id, None, exc.reason)
                continue
            sends.append(
                direct_once(
                    self.runtime,
                    self._semaphore,
                    messenger,
                    SPEEDSPAR_DM,
                    item.message_id,
                    item.status,
                    item.user_id,
                    item.card,
                    item.key,
                )
            )
        return await all_done(sends)

    async def post(self, session_id: int) -> int:
        post = await self.runtime.call(speedsparren.pending_post, session_id)
        if post is None:
            return 0
        key = f"leerkring:speedspar:{session_id}:{post.kind}"
        held = claims_of(self.runtime)
        if not await held.take_session_post(session_id, post.kind):
            return 0  # another process (`leerkring schedule run`, a replica) is posting it
        try:
            messenger = self.messengers.get(post.place.platform)
            # An earlier attempt may have been posted without its answer arriving.
            ref = await find_earlier_post(messenger, post.place, key, post.since)
            if ref is None:
                ref = await messenger.post(post.place, post.card, key=key)
        except DeliveryFailed as exc:
            log.warning("speedspar %s: channel post failed: %s", session_id, exc.reason)
            if exc.reason not in PERMANENT and not exc.reason.startswith("platform_off"):
                await held.finish(claims.SESSION_POST, session_id, None)
                return 0  # try again at the next tick
            await held.finish(claims.SESSION_POST, session_id, speedsparren.post_failed, exc.reason)
            return 0
        except BaseException:
            held.forget(claims.SESSION_POST, session_id)
            raise
        await held.finish(claims.SESSION_POST, session_id, speedsparren.mark_posted, ref.message_id)
        return 1

    def plan_jobs(self, plans: list[speedsparren.Plan]) -> None:
        """A DateTrigger job at each session's next boundary (replacing an older one)."""
        if self._scheduler is None:
            return
        for plan in plans:
            if (
                plan.next_boundary is None
                or self._planned.get(plan.session_id) == plan.next_boundary
            ):
                continue
            self._scheduler.add_job(
                boundary_job,
                DateTrigger(run_date=plan.next_boundary),
                args=[plan.session_id],
                id=f"speedspar-{plan.session_id}",
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )
            self._planned[plan.session_id] = plan.next_boundary


# --- module-level job (APScheduler calls it; its argument is a plain id) -------------------------

_current: SpeedsparRunner | None = None


async def boundary_job(session_id: int) -> None:
    """A session reached a boundary: run the scheduler's tick now (leader check included)."""
    runner = _current
    if runner is None or runner._wake is None:
        return
    runner._planned.pop(session_id, None)
    try:
        await runner._wake()
    except Exception:
        log.exception("speedspar boundary for session %s failed", session_id)
