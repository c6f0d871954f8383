"""The reflection feature's scheduler steps: fire what is due, ask closed casussen how the
step went, deliver prompt runs (a channel post or DMs), remind, close and post summaries.

Each step is a module-level coroutine ``step(engine)`` registered with the router
(``register``); synchronous work runs through ``engine.call`` in a unit of work of its own.
Because every run has a unique fire key written before anything is sent, and every recipient
row records whether it was sent, a restart or a failover resumes without sending twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from handlers.core.events import Place
from handlers.core.messaging import (
    NOT_SENT,
    PERMANENT,
    DeliveryFailed,
    find_earlier_post,
    outbox_key,
)
from handlers.core.registry import Engine, EngineStep, FireResult
from handlers.core.router import Router
from handlers.core.sending import OutboxSteps, all_done, claims_of, direct_once
from handlers.reflection import queries as outboxes
from handlers.reflection import steps as reflection_steps
from handlers.reflection.queries import run_repo
from storage.models import Casus, PromptRun

log = logging.getLogger(__name__)

GRACE = timedelta(hours=1)  # a run missed while the bot was down is still sent within this
FOLLOWUP_AFTER = timedelta(weeks=4)  # the casus follow-up ("hoe ging je stap?")


async def fire_step(engine: Engine) -> Mapping[str, int]:
    """Create a run for every schedule that is due (of any kind)."""
    fired = 0
    for result in await engine.call(reflection_steps.fire_due, engine.option("grace", GRACE)):
        fired += result.fired
        if result.notice is not None:
            await engine.notify(result.notice)
    return {"fired": fired}


async def followup_step(engine: Engine) -> Mapping[str, int]:
    after = engine.option("followup_after", FOLLOWUP_AFTER)
    if after is not None:
        await engine.call(reflection_steps.casus_followups, after)
    return {}


async def deliver_step(engine: Engine) -> Mapping[str, int]:
    return {"sent": await deliver_pending(engine)}


async def remind_step(engine: Engine) -> Mapping[str, int]:
    return {"reminded": await send_reminders(engine)}


async def close_step(engine: Engine) -> Mapping[str, int]:
    return {"closed": await close_runs(engine)}


async def fire_now(engine: Engine, schedule_id: int) -> FireResult:
    """`leerkring schedule run <id>`: the same path as the timer, right now."""

    def fire(ctx: Any) -> FireResult:
        schedule = ctx.repos.schedules.get(schedule_id)
        if schedule is None:
            raise LookupError(schedule_id)
        key = f"s{schedule.id}:now:{ctx.now().isoformat()}"
        return reflection_steps.fire_run(ctx, schedule, ctx.now(), key)

    result = await engine.call(fire)
    if result.run_id is not None:
        # No later tick in this process: DMs postponed after the client's own 429 retries
        # are tried again here for as long as each pass still gets some through.
        while await deliver_pending(engine):
            if not await engine.call(_pending_deliveries, result.run_id):
                break
    kind = engine.registry.schedule_kinds.get(result.kind or "")
    if result.started_id is not None and kind is not None:
        await kind.started(engine, result.started_id)  # e.g. posts an announcement
    return result


async def deliver_pending(engine: Engine) -> int:
    runs = await engine.call(_runs_needing_delivery)
    sent = 0
    for run in runs:
        sent += await deliver_run(engine, run)
    return sent


async def deliver_run(engine: Engine, run: RunInfo) -> int:
    if run.platform in engine.messengers.stopped:
        return 0  # logged once, when the workspace revoked the app
    try:
        messenger = engine.messengers.get(run.platform)
    except DeliveryFailed:
        log.error("run %s: platform %s is not connected; not sent", run.run_id, run.platform)
        return 0
    place = Place(run.platform, run.channel_ref)
    if not run.recipients_listed:
        # The channel post and the listing of recipients are claimed like an outbox row:
        # another process (a replica, `leerkring schedule run`) at the same run skips it.
        held = claims_of(engine.runtime)
        if not await held.take_with(outboxes.RUN_POST, run.run_id, outboxes.claim_run):
            return 0
        try:
            posted = await _post_and_list(engine, run, messenger, place)
        finally:
            await held.finish(outboxes.RUN_POST, run.run_id, None)
        if posted is None or run.delivery == "channel":
            return posted or 0
    pending = await engine.call(_pending_deliveries, run.run_id)
    if not pending:
        return 0
    card = await engine.call(_prompt_card, run.run_id)

    sends = (
        direct_once(
            engine.runtime,
            engine.semaphore,
            messenger,
            PROMPT_DM,
            delivery_id,
            status,
            user_id,
            card,
            f"leerkring:prompt:{run.run_id}:{delivery_id}",
        )
        for delivery_id, user_id, status in pending
    )
    return await all_done(sends)


async def _post_and_list(engine: Engine, run: RunInfo, messenger: Any, place: Place) -> int | None:
    """The run's channel post (channel delivery) and its recipients; None when the post
    failed (tried again at a later tick unless the channel refuses for good)."""
    message_id = await engine.call(_posted_id, run.run_id)  # fresh, under the claim
    if run.delivery == "channel" and message_id is None:
        card = await engine.call(_prompt_card, run.run_id)
        key = outbox_key("prompt_run", run.run_id)
        try:
            # An earlier attempt may have been posted without its answer arriving.
            ref = await find_earlier_post(messenger, place, key, run.created_at)
            if ref is None:
                ref = await messenger.post(place, card, key=key)
        except DeliveryFailed as exc:
            log.error("run %s: posting in %s failed: %s", run.run_id, place.channel_id, exc.reason)
            if exc.reason in PERMANENT:
                await engine.call(_abandon, run.run_id)
            return None
        await engine.call(reflection_steps.mark_posted, run.run_id, ref.message_id)
    try:
        members = await messenger.channel_members(place)
    except DeliveryFailed as exc:
        log.error(
            "run %s: listing members of %s failed: %s",
            run.run_id,
            place.channel_id,
            exc.reason,
        )
        members = []
    await engine.call(reflection_steps.list_recipients, run.run_id, members)
    return 1


async def send_reminders(engine: Engine) -> int:
    """Reminder DMs, each an outbox row like a prompt DM: written before (``pending``),
    ``sending`` before the call, looked for by its key when a process died after sending,
    marked after. A transient failure is tried again at the next tick."""
    await engine.call(reflection_steps.list_reminders)
    sends = []
    for reminder in await engine.call(reflection_steps.pending_reminders):
        try:
            messenger = engine.messengers.get(reminder.platform)
        except DeliveryFailed:
            continue
        for delivery_id, user_id, status in reminder.deliveries:
            key = f"leerkring:reminder:{reminder.run_id}:{delivery_id}"
            sends.append(
                direct_once(
                    engine.runtime,
                    engine.semaphore,
                    messenger,
                    REMINDER_DM,
                    delivery_id,
                    status,
                    user_id,
                    reminder.card,
                    key,
                )
            )
    return await all_done(sends)


async def close_runs(engine: Engine) -> int:
    """Close runs whose window ended, then post the summaries still owed. A summary is
    marked ``posting`` before the call; one left so by a crash or a lost answer is looked
    for in the channel (thread) by its key before it is posted again."""
    closed = await engine.call(reflection_steps.close_due)
    for closing in await engine.call(reflection_steps.pending_summaries):
        await post_summary(engine, closing)
    return len(closed)


async def post_summary(engine: Engine, closing: reflection_steps.Closing) -> bool:
    key = outbox_key("summary", closing.run_id)
    try:
        messenger = engine.messengers.get(closing.place.platform)
    except DeliveryFailed as exc:
        log.warning("run %s: summary not posted: %s", closing.run_id, exc.reason)
        await engine.call(reflection_steps.mark_summary_posted, closing.run_id, exc.reason)
        return False
    held = claims_of(engine.runtime)
    if not await held.take(outboxes.SUMMARY, closing.run_id, closing.status):
        return False  # another process is posting it, or did
    try:
        ref = None
        if closing.status == "posting":
            try:
                ref = await messenger.find_posted(
                    closing.place, key, closing.since, closing.thread_id
                )
            except DeliveryFailed as exc:
                if exc.reason != "unsupported":
                    raise
                # The platform cannot tell (Teams): post again, at least once.
        if ref is None:
            await messenger.post(closing.place, closing.card, closing.thread_id, key=key)
    except DeliveryFailed as exc:
        log.warning("run %s: summary not posted yet: %s", closing.run_id, exc.reason)
        if exc.reason in PERMANENT:
            await held.finish(outboxes.SUMMARY, closing.run_id, _summary_failed, exc.reason)
        elif exc.reason in NOT_SENT:
            await held.finish(outboxes.SUMMARY, closing.run_id, SUMMARY_POST.unsent)
        else:
            await held.finish(outboxes.SUMMARY, closing.run_id, None)
        return False
    except BaseException:
        held.forget(outboxes.SUMMARY, closing.run_id)
        raise
    await held.finish(outboxes.SUMMARY, closing.run_id, reflection_steps.mark_summary_posted)
    return True


def _reminded(ctx: Any, delivery_id: int, message_id: str | None, error: str | None) -> None:
    reflection_steps.mark_reminded(ctx, delivery_id, error)


def _summary_failed(ctx: Any, run_id: int, error: str) -> None:
    reflection_steps.mark_summary_posted(ctx, run_id, error)


PROMPT_DM = OutboxSteps(outboxes.PROMPT_DM)
REMINDER_DM = OutboxSteps(outboxes.REMINDER_DM, _reminded)
SUMMARY_POST = OutboxSteps(outboxes.SUMMARY)


class RunInfo:
    """What the async side needs to know about a run (no ORM objects cross threads)."""

    def __init__(self, run: PromptRun) -> None:
        self.run_id = run.id
        self.platform = run.channel.platform
        self.channel_ref = run.channel.platform_channel_id
        self.delivery = run.delivery
        self.message_id = run.message_id
        self.recipients_listed = run.recipients_listed
        self.created_at = run.created_at


def _runs_needing_delivery(ctx: Any) -> list[RunInfo]:
    return [RunInfo(run) for run in run_repo(ctx).needing_delivery()]


def _posted_id(ctx: Any, run_id: int) -> str | None:
    run = run_repo(ctx).get(run_id)
    return None if run is None else run.message_id


def _pending_deliveries(ctx: Any, run_id: int) -> list[tuple[int, str, str]]:
    run = run_repo(ctx).get(run_id)
    if run is None:
        return []
    return [
        (d.id, d.user_id, d.status)
        for d in run_repo(ctx).deliveries(run)
        if d.status in ("pending", "sending")
    ]


def _prompt_card(ctx: Any, run_id: int) -> Any:
    run = run_repo(ctx).get(run_id)
    assert run is not None
    casus = ctx.session.get(Casus, run.casus_id) if run.casus_id else None
    return reflection_steps.prompt_card(ctx.texts, run, casus)


def _abandon(ctx: Any, run_id: int) -> None:
    """The channel refuses our post for good: close the run rather than retry forever."""
    from storage.models import RunStatus

    run = run_repo(ctx).get(run_id)
    if run is not None:
        run.status = RunStatus.CLOSED
        run.recipients_listed = True


def register(router: Router) -> None:
    router.engine_step(EngineStep("reflection.fire", fire_step, order=10))
    router.engine_step(EngineStep("reflection.followups", followup_step, order=20))
    router.engine_step(EngineStep("reflection.deliver", deliver_step, order=40))
    router.engine_step(EngineStep("reflection.remind", remind_step, order=60))
    router.engine_step(EngineStep("reflection.close", close_step, order=70))
