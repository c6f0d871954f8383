"""Runs speedspar sessions: advances them at their boundaries and fans out the direct messages.

A scheduler step (``tick_step``, under the leader lock like every step) does whatever is due,
and for precision asks the scheduler to wake at every session's next boundary (start, end of a
round, end of the takeaway window), so a round's fan-out starts at its time rather than at the
next tick. A restart finds the same boundaries in the database and asks again.

Each DM is an outbox row written before sending and claimed while it is sent
(handlers/core/sending.py); a transient failure leaves the row pending for the next tick, and
a round's unsent DMs expire when it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from handlers.core.context import HandlerContext
from handlers.core.messaging import PERMANENT, DeliveryFailed, find_earlier_post
from handlers.core.registry import Engine, EngineStep, FireResult, KindOption
from handlers.core.replies import Button, Ephemeral, Reply
from handlers.core.router import Router
from handlers.core.sending import OutboxSteps, all_done, claims_of, direct_once
from handlers.speedsparren import queries as outboxes
from handlers.speedsparren.common import ACTION_PLAN, SCHEDULE_KIND, clock_time
from handlers.speedsparren.planning import (
    CLI_OPTIONS,
    fire_schedule,
    schedule_details,
    schedule_from_cli,
)
from handlers.speedsparren.queries import speedspar_repo
from handlers.speedsparren.rounds import (
    advance,
    mark_posted,
    pending_messages,
    pending_post,
    plans,
    post_failed,
)
from prompts import Texts
from storage.models import Channel, Member, Schedule

log = logging.getLogger(__name__)

MAX_STEPS = 20  # boundaries one session may pass in one go (guards against a loop)


# Round, closing and cancellation DMs of a session the person joined: sent on any day.
SPEEDSPAR_DM = OutboxSteps(outboxes.SPEEDSPAR_DM, live=True)


def wake_key(session_id: int) -> str:
    return f"speedspar-{session_id}"


async def tick_step(engine: Engine) -> Mapping[str, int]:
    """Everything due for speedsparren, once. The caller holds the leader lock."""
    for plan in await engine.call(plans):
        if plan.work_now:
            await run_session(engine, plan.session_id)
    for plan in await engine.call(plans):
        if plan.next_boundary is not None:
            engine.wake_at(plan.next_boundary, wake_key(plan.session_id))
    return {}


async def run_session(engine: Engine, session_id: int) -> tuple[int, int]:
    for _ in range(MAX_STEPS):
        if not await engine.call(advance, session_id):
            break
    sent = await fan_out(engine, session_id)
    posted = await post(engine, session_id)
    return sent, posted


async def fan_out(engine: Engine, session_id: int) -> int:
    outgoing = await engine.call(pending_messages, session_id)

    sends = []
    for item in outgoing:
        try:
            messenger = engine.messengers.get(item.platform)
        except DeliveryFailed as exc:  # platform_off: nothing will carry it
            await engine.call(SPEEDSPAR_DM.finished, item.message_id, None, exc.reason)
            continue
        sends.append(
            direct_once(
                engine.runtime,
                engine.semaphore,
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


async def post(engine: Engine, session_id: int) -> int:
    post = await engine.call(pending_post, session_id)
    if post is None:
        return 0
    key = f"leerkring:speedspar:{session_id}:{post.kind}"
    held = claims_of(engine.runtime)
    if not await held.take_with(
        outboxes.SESSION_POST,
        session_id,
        lambda session, row_id, now, lease: outboxes.claim_session_post(
            session, row_id, post.kind, now, lease
        ),
    ):
        return 0  # another process (`leerkring schedule run`, a replica) is posting it
    try:
        messenger = engine.messengers.get(post.place.platform)
        # An earlier attempt may have been posted without its answer arriving.
        ref = await find_earlier_post(messenger, post.place, key, post.since)
        if ref is None:
            ref = await messenger.post(post.place, post.card, key=key)
    except DeliveryFailed as exc:
        log.warning("speedspar %s: channel post failed: %s", session_id, exc.reason)
        if exc.reason not in PERMANENT and not exc.reason.startswith("platform_off"):
            await held.finish(outboxes.SESSION_POST, session_id, None)
            return 0  # try again at the next tick
        await held.finish(outboxes.SESSION_POST, session_id, post_failed, exc.reason)
        return 0
    except BaseException:
        held.forget(outboxes.SESSION_POST, session_id)
        raise
    await held.finish(outboxes.SESSION_POST, session_id, mark_posted, ref.message_id)
    return 1


class SpeedsparSchedules:
    """The speedspar schedule kind: ``/reflectie`` lists, pauses and fires it like every
    schedule; firing it starts a session (``fire_schedule``)."""

    key = SCHEDULE_KIND
    options: tuple[KindOption, ...] = CLI_OPTIONS

    def label(self, texts: Texts) -> str:
        return texts.get("speedsparren.plan.kind")

    def details(self, texts: Texts, schedule: Schedule) -> str:
        return schedule_details(texts, schedule)

    def send_now_label(self, texts: Texts) -> str:
        return texts.get("speedsparren.plan.start_now")

    def plan_button(self, texts: Texts) -> Button | None:
        return Button(ACTION_PLAN, texts.get("speedsparren.plan.add"), "new")

    def fire(
        self, ctx: HandlerContext, schedule: Schedule, fire_at: datetime, key: str
    ) -> FireResult:
        return fire_schedule(ctx, schedule, fire_at, key)

    def fired_now(
        self, ctx: HandlerContext, schedule: Schedule, result: FireResult
    ) -> list[Reply] | None:
        texts = ctx.texts
        if result.started_id is not None:
            speedspar = speedspar_repo(ctx).get(result.started_id)
            assert speedspar is not None
            at = clock_time(ctx.texts, speedspar.starts_at, ctx.zone, ctx.now())
            return [Ephemeral(texts.rich("speedsparren.plan.started_now", id=schedule.id, at=at))]
        if result.skipped == "busy":
            active = speedspar_repo(ctx).active_in_channel(schedule.channel_id)
            return [Ephemeral(texts.rich("speedsparren.already", id=active.id if active else "?"))]
        return None

    async def started(self, engine: Engine, started_id: int) -> None:
        await run_session(engine, started_id)  # posts the announcement

    def create(
        self,
        ctx: HandlerContext,
        channel: Channel,
        rule: str,
        values: Mapping[str, Any],
        *,
        skip_holidays: bool,
        creator: Member | None,
    ) -> Schedule:
        return schedule_from_cli(
            ctx, channel, rule, values, skip_holidays=skip_holidays, creator=creator
        )

    def run_line(self, result: FireResult) -> str:
        if result.started_id is not None:
            return f"speedsparren announced as session #{result.started_id}"
        return "not started; a speedspar session is still going in that channel"


def register(router: Router) -> None:
    router.schedule_kind(SpeedsparSchedules())
    router.engine_step(EngineStep("speedsparren.tick", tick_step, order=80))
