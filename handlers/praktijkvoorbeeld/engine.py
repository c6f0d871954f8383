"""The praktijkvoorbeeld feature's scheduler steps.

``praktijk.followups``: N weeks (LEERKRING_PRAKTIJK_FOLLOWUP_WEEKS, default 4) after someone
named a step for tomorrow, they get one DM, *hoe ging je stap?*, like a closed casus's
follow-up. The follow-up row (one per translation, a unique key) is written first, in its own
transaction; the DM is an outbox row claimed before it is sent (handlers/core/sending.py), so
any number of processes and restarts send it once. Someone who snoozed gets it when the snooze
is over.

``praktijk.reconcile``: a practice posted while the process or the database went away before
the post was recorded is found on the platform by its key and recorded (or removed when it
never arrived), as casussen are."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import Place
from handlers.core.messaging import DeliveryFailed, outbox_key
from handlers.core.registry import Engine, EngineStep
from handlers.core.replies import Record
from handlers.core.router import Router
from handlers.core.sending import OutboxSteps, OwedDM, send_owed
from handlers.praktijkvoorbeeld import chat
from handlers.praktijkvoorbeeld.queries import FOLLOWUP, FOLLOWUP_WINDOW_DAYS, praktijk_repo

log = logging.getLogger(__name__)

FOLLOWUP_AFTER = timedelta(weeks=4)
FOLLOWUP_STEPS = OutboxSteps(FOLLOWUP)
RECONCILE_AFTER = timedelta(minutes=1)
RECONCILE_GIVE_UP = timedelta(minutes=15)


FollowupDM = OwedDM


def plan_followups(ctx: HandlerContext, after: timedelta) -> int:
    """A follow-up row for every step named ``after`` ago (within a week of that moment)."""
    now = ctx.now()
    repo = praktijk_repo(ctx.session)
    planned = 0
    for translation in repo.steps_due(
        now - after, now - after - timedelta(days=FOLLOWUP_WINDOW_DAYS)
    ):
        planned += repo.add_followup(translation, now)
    return planned


def pending_followups(ctx: HandlerContext) -> list[FollowupDM]:
    """Follow-up DMs not sent yet (or being sent when a process stopped); not while the person
    snoozes."""
    today = ctx.now().astimezone(ZoneInfo(ctx.zone)).date()
    out: list[FollowupDM] = []
    for row in praktijk_repo(ctx.session).unsent_followups():
        member = row.translation.member
        if member.snoozed_until is not None and member.snoozed_until >= today:
            continue
        out.append(FollowupDM.of(FOLLOWUP, row, member, chat.followup_card(ctx.texts, row)))
    return out


async def send_followups(engine: Engine, items: list[FollowupDM]) -> int:
    reachable = [i for i in items if i.platform not in engine.messengers.stopped]
    # a workspace that removed the app is logged where that was noticed
    return await send_owed(engine, FOLLOWUP_STEPS, reachable, give_up_unreachable=False)


def due_followups(ctx: HandlerContext, after: timedelta | None) -> list[FollowupDM]:
    """This tick's work in one unit of work: plan what became due (unless the follow-up is
    switched off), then everything still owed. The rows are committed before anything is sent."""
    if after is not None:
        plan_followups(ctx, after)
    return pending_followups(ctx)


async def followup_step(engine: Engine) -> Mapping[str, int]:
    after = engine.option("praktijk_followup_after", FOLLOWUP_AFTER)
    items = await engine.call(due_followups, after)
    sent = await send_followups(engine, items) if items else 0
    return {"praktijk_followups": sent} if sent else {}


# --- practices posted but not recorded ------------------------------------------------------


@dataclass(frozen=True)
class Unrecorded:
    practice_id: int
    place: Place
    created_at: datetime


def unrecorded_posts(ctx: HandlerContext, settle: timedelta) -> list[Unrecorded]:
    return [
        Unrecorded(p.id, chat.place_of(p), p.created_at)
        for p in praktijk_repo(ctx.session).unrecorded(ctx.now() - settle)
    ]


def drop_unposted(ctx: HandlerContext, practice_id: int) -> None:
    practice = praktijk_repo(ctx.session).get(practice_id)
    if practice is not None and practice.message_id is None:
        ctx.session.delete(practice)


async def reconcile_step(engine: Engine) -> Mapping[str, int]:
    recovered = 0
    for item in await engine.call(unrecorded_posts, RECONCILE_AFTER):
        key = outbox_key(chat.RECORD_PRACTICE, item.practice_id)
        try:
            messenger = engine.messengers.get(item.place.platform)
            ref = await messenger.find_posted(item.place, key, item.created_at)
        except DeliveryFailed as exc:
            log.info("praktijk %s: cannot check its post yet: %s", item.practice_id, exc.reason)
            continue
        if ref is not None:
            await engine.posted(Record(chat.RECORD_PRACTICE, item.practice_id), ref)
            recovered += 1
        elif engine.now() - item.created_at > RECONCILE_GIVE_UP:
            await engine.call(drop_unposted, item.practice_id)
            log.warning("praktijk %s: never reached the channel; removed", item.practice_id)
    return {"praktijk_recovered": recovered} if recovered else {}


def register(router: Router) -> None:
    router.engine_step(EngineStep("praktijk.reconcile", reconcile_step, order=31))
    router.engine_step(EngineStep("praktijk.followups", followup_step, order=45))
