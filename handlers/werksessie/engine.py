"""Runs werksessies: moves a live (or async) session on when its phase's time is up, posts
what the sessions owe their casus threads, and sends the async reminders.

Everything lives in the database: the phase deadline, the posts owed (``WerksessiePost``, one
per session, phase and kind) and the reminders (``WerksessieReminder``, one per phase and
person). A restart finds them and carries on; a move is a conditional UPDATE, a post and a
reminder are claimed before they are sent, so replicas and ``schedule run`` share the work
and nothing goes out twice. The scheduler is asked to wake at every deadline."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import MessageRef
from handlers.core.messaging import PERMANENT, DeliveryFailed, Messenger, outbox_key
from handlers.core.registry import Engine, EngineStep
from handlers.core.replies import Card, Context, Section
from handlers.core.router import Router
from handlers.core.sending import OutboxSteps, OwedDM, claims_of, send_owed
from handlers.werksessie import chat
from handlers.werksessie.queries import FOLLOWUP, POST, REMINDER, claim_post
from storage.models import CasusStatus, Werksessie, WerksessieFollowup, WerksessiePost

log = logging.getLogger(__name__)

REMINDER_STEPS = OutboxSteps(REMINDER)
FOLLOWUP_STEPS = OutboxSteps(FOLLOWUP)


def wake_key(session_id: int, what: str = "fase") -> str:
    return f"werksessie-{session_id}-{what}"


def move_due(ctx: HandlerContext) -> int:
    moved = 0
    repo = chat.repo(ctx)
    for session_id in repo.due(ctx.now()):
        werksessie = repo.get(session_id)
        if werksessie is not None and chat.advance(ctx, werksessie, werksessie.phase, claim=False):
            moved += 1
    return moved


def _reminder_time(werksessie: Werksessie) -> datetime | None:
    if werksessie.mode != chat.ASYNC or werksessie.phase_started_at is None:
        return None
    if werksessie.phase_ends_at is None:
        return None
    return (
        werksessie.phase_started_at + (werksessie.phase_ends_at - werksessie.phase_started_at) / 2
    )


def plan_reminders(ctx: HandlerContext) -> None:
    """Halfway an async phase: one reminder for each participant who may speak in it and has
    not taken part (the row's key makes it one per phase and person)."""
    repo = chat.repo(ctx)
    for werksessie in repo.running():
        at = _reminder_time(werksessie)
        if at is None or at > ctx.now():
            continue
        phase = chat.method_of(ctx, werksessie).phases[werksessie.phase]
        casus = werksessie.casus
        took_part = repo.took_part(werksessie.id, werksessie.phase)
        owed = []
        for member_id in repo.participant_ids(werksessie):
            is_inbrenger = not casus.anonymous and member_id == casus.inbrenger_id
            if member_id in took_part:
                continue
            if phase.speaks == "inbrenger" and not is_inbrenger:
                continue
            if phase.speaks == "niet_inbrenger" and is_inbrenger:
                continue
            if phase.kind == "afsluiting" and is_inbrenger and casus.status == CasusStatus.CLOSED:
                continue  # closed through the casus's own form: that is taking part
            owed.append(member_id)
        repo.add_reminders(werksessie.id, werksessie.phase, owed)


Reminder = OwedDM


def pending_reminders(ctx: HandlerContext) -> list[Reminder]:
    repo = chat.repo(ctx)
    texts = ctx.texts
    out: list[Reminder] = []
    for row in repo.unsent_reminders():
        werksessie = repo.get(row.session_id)
        member = ctx.repos.members.get(row.member_id)
        if werksessie is None or member is None:
            continue
        phase = chat.method_of(ctx, werksessie).phases[row.phase]
        ends = werksessie.phase_ends_at
        text = texts.rich(
            "werksessie.reminder.text",
            title=werksessie.casus.title,
            phase=phase.title,
            until=chat._until(ctx, ends) if ends is not None else "-",
        )
        card = Card(
            (Section(text), Context(texts.rich("werksessie.reminder.context"))),
            fallback=texts.rich("werksessie.reminder.fallback", phase=phase.title),
        )
        out.append(Reminder.of(REMINDER, row, member, card))
    return out


def _followup_card(ctx: HandlerContext, row: WerksessieFollowup) -> Card | None:
    werksessie = chat.repo(ctx).get(row.session_id)
    if werksessie is None:
        return None
    texts = ctx.texts
    method = chat.methods(ctx).get(werksessie.method)
    name = method.name if method is not None else werksessie.method
    casus = werksessie.casus
    step = casus.next_step
    if not step and method is not None:
        closing = [i for i, p in enumerate(method.phases) if p.kind == "afsluiting"]
        if closing:
            step = chat.repo(ctx).last_words(werksessie.id, closing[-1], row.member_id)
    since = row.created_at.astimezone(ZoneInfo(ctx.zone)).strftime("%d-%m-%Y")
    body = (
        texts.rich(
            "werksessie.followup.text", method=name, title=casus.title, step=step, since=since
        )
        if step
        else texts.rich(
            "werksessie.followup.text_no_step", method=name, title=casus.title, since=since
        )
    )
    return Card(
        (
            Section(body),
            Section(texts.rich("werksessie.followup.question")),
            Context(texts.rich("werksessie.followup.context")),
        ),
        fallback=texts.rich("werksessie.followup.fallback", method=name),
    )


def pending_followups(ctx: HandlerContext) -> list[Reminder]:
    """The follow-ups that are due: the next cycle, one private message to the inbrenger."""
    out: list[Reminder] = []
    now = ctx.now()
    for row in chat.repo(ctx).unsent_followups():
        if row.due_at > now:
            continue
        member = ctx.repos.members.get(row.member_id)
        card = _followup_card(ctx, row)
        if member is None or card is None:
            continue
        out.append(Reminder.of(FOLLOWUP, row, member, card))
    return out


def pending_posts(ctx: HandlerContext) -> list[chat.PendingPost]:
    out = []
    for post in chat.repo(ctx).unposted():
        item = chat.post_content(ctx, post.id)
        if item is not None:
            out.append(item)
    return out


def mark_posted(ctx: HandlerContext, post_id: int, message_id: str) -> None:
    post = ctx.session.get(WerksessiePost, post_id)
    if post is not None and post.message_id is None:
        post.message_id = message_id


def mark_failed(ctx: HandlerContext, post_id: int, reason: str) -> None:
    post = ctx.session.get(WerksessiePost, post_id)
    if post is not None and post.message_id is None:
        post.error = reason[:100]


def wake_times(ctx: HandlerContext) -> list[tuple[str, datetime]]:
    out = []
    for werksessie in chat.repo(ctx).running():
        if werksessie.phase_ends_at is not None:
            out.append((wake_key(werksessie.id), werksessie.phase_ends_at))
        at = _reminder_time(werksessie)
        if at is not None and at > ctx.now():
            out.append((wake_key(werksessie.id, "herinnering"), at))
    for row in chat.repo(ctx).unsent_followups():
        if row.due_at > ctx.now():
            out.append((wake_key(row.session_id, "vervolg"), row.due_at))
    return out


async def _earlier(messenger: Messenger, item: chat.PendingPost, key: str) -> MessageRef | None:
    """A post of an earlier attempt that was sent but never recorded (the process died, or
    the answer was lost): found in the casus thread by its key, so it is not posted twice."""
    try:
        return await messenger.find_posted(item.place, key, item.since, item.thread_id)
    except DeliveryFailed as exc:
        if exc.reason != "unsupported":
            log.warning(
                "werksessie %s: cannot look for an earlier post: %s", item.session_id, exc.reason
            )
        return None


async def post_owed(engine: Engine, items: list[chat.PendingPost]) -> int:
    posted = 0
    held = claims_of(engine.runtime)
    for item in items:
        if not await held.take_with(POST, item.post_id, claim_post):
            continue  # a button's reply or another process is posting it
        key = outbox_key(chat.POST_RECORD, item.post_id)
        try:
            messenger = engine.messengers.get(item.place.platform)
            ref = await _earlier(messenger, item, key)
            if ref is None:
                ref = await messenger.post(item.place, item.card, item.thread_id, key=key)
        except DeliveryFailed as exc:
            log.warning("werksessie %s: post failed: %s", item.session_id, exc.reason)
            permanent = exc.reason in PERMANENT or exc.reason.startswith("platform_off")
            await held.finish(POST, item.post_id, mark_failed if permanent else None, exc.reason)
            continue
        except BaseException:
            held.forget(POST, item.post_id)
            raise
        await held.finish(POST, item.post_id, mark_posted, ref.message_id)
        posted += 1
    return posted


async def send_reminders(
    engine: Engine, items: list[Reminder], steps: OutboxSteps = REMINDER_STEPS
) -> int:
    return await send_owed(engine, steps, items, give_up_unreachable=True)


@dataclass(frozen=True)
class Work:
    moved: int
    posts: list[chat.PendingPost]
    reminders: list[Reminder]
    followups: list[Reminder]
    wakes: list[tuple[str, datetime]]


def due_work(ctx: HandlerContext) -> Work:
    """Everything of this tick in one unit of work: the sessions moved on, then what they owe."""
    moved = move_due(ctx)
    plan_reminders(ctx)
    return Work(
        moved, pending_posts(ctx), pending_reminders(ctx), pending_followups(ctx), wake_times(ctx)
    )


async def tick_step(engine: Engine) -> Mapping[str, int]:
    work = await engine.call(due_work)
    posted = await post_owed(engine, work.posts) if work.posts else 0
    reminded = await send_reminders(engine, work.reminders) if work.reminders else 0
    followed = await send_reminders(engine, work.followups, FOLLOWUP_STEPS) if work.followups else 0
    for key, at in work.wakes:
        engine.wake_at(at, key)
    counts = {
        "werksessie_moved": work.moved,
        "werksessie_posted": posted,
        "werksessie_reminded": reminded,
        "werksessie_followed_up": followed,
    }
    return {name: value for name, value in counts.items() if value}


def register(router: Router) -> None:
    # Before speedsparren (80): tests/bot/test_speedsparren.py reads the wake-up job that step
    # sets right after the tick, and a step awaiting after it lets an overdue job fire first.
    router.engine_step(EngineStep("werksessie.phase", tick_step, order=75))
