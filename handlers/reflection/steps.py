"""The reflection feature's synchronous scheduler steps, one unit of work each: fire what is
due (every schedule kind), ask closed casussen how the step went, list recipients, remind,
close runs and their summaries. The async side that sends is engine.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import Place
from handlers.core.registry import FireResult
from handlers.core.replies import (
    Actions,
    Block,
    Button,
    Card,
    Context,
    Header,
    Section,
    rich,
)
from handlers.core.schedules import (
    holiday_name,
    next_fire,
)
from handlers.reflection.queries import run_repo
from prompts import Deck, Texts
from storage.models import (
    UNPOSTED,
    Casus,
    CasusStatus,
    Channel,
    PromptDelivery,
    PromptRun,
    RunStatus,
    Schedule,
    waiting,
)

log = logging.getLogger(__name__)
REMIND_AT = 0.8  # share of the response window after which non-responders get a reminder
FOLLOWUP_KIND = "casus-vervolg"
ACTION_ANSWER = "reflectie_antwoord"  # the button on a prompt card (chat.py answers it)


def local_time(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y %H:%M")


def deck_of(texts: Texts, kind: str) -> Deck:
    return texts.decks[kind]


def place_of(channel: Channel) -> Place:
    return Place(channel.platform, channel.platform_channel_id, channel.team_id, channel.name)


def prompt_card(texts: Texts, run: PromptRun, casus: Casus | None = None) -> Card:
    deck = deck_of(texts, run.kind)
    blocks: list[Block] = [Header(deck.name)]
    if casus is not None and casus.next_step:
        blocks.append(
            Section(
                texts.rich(
                    "reflectie.prompt.casus_followup_intro", title=casus.title, step=casus.next_step
                )
            )
        )
    blocks.append(Section(rich("{intro}", intro=deck.intro)))
    blocks.append(Section(rich("**{q}**", q=deck.questions[0].label)))
    blocks.append(
        Actions(
            (Button(ACTION_ANSWER, texts.get("reflectie.prompt.button"), str(run.id), "primary"),)
        )
    )
    blocks.append(
        Context(
            texts.rich(
                "reflectie.prompt.footer",
                kind=deck.name,
                until=texts.moment(run.closes_at, _zone_of(run)),
            )
        )
    )
    fallback = texts.rich(
        "reflectie.prompt.fallback", kind=deck.name, question=deck.questions[0].label
    )
    return Card(tuple(blocks), fallback=fallback)


def _zone_of(run: PromptRun) -> str:
    schedule = getattr(run, "schedule", None)
    return schedule.timezone if schedule is not None else "Europe/Amsterdam"


def fire_due(ctx: HandlerContext, grace: timedelta) -> list[FireResult]:
    """Create a run for every schedule that is due, and move each one to its next time.

    A run that was due while the bot was down is created once if it is within ``grace``;
    older missed runs are skipped and logged. The run row (unique fire key) is written before
    anything is sent.
    """
    now = ctx.now()
    results: list[FireResult] = []
    for schedule in ctx.repos.schedules.due(now, lock=True):
        fire_at = schedule.next_fire_at
        assert fire_at is not None
        schedule.next_fire_at = next_fire(schedule.cron, schedule.timezone, max(fire_at, now))
        if now - fire_at > grace:
            log.warning(
                "schedule %s: run due at %s was missed (more than %s ago); skipped",
                schedule.id,
                fire_at.isoformat(),
                grace,
            )
            results.append(FireResult(None, "missed"))
            continue
        results.append(
            fire_run(ctx, schedule, fire_at, key=f"s{schedule.id}:{fire_at.isoformat()}")
        )
    return results


def fire_run(ctx: HandlerContext, schedule: Schedule, fire_at: datetime, key: str) -> FireResult:
    local_day = fire_at.astimezone(ZoneInfo(schedule.timezone)).date()
    channel = schedule.channel
    if channel.paused_until is not None and local_day <= channel.paused_until:
        log.info("schedule %s: channel paused until %s", schedule.id, channel.paused_until)
        return FireResult(None, "paused")
    if schedule.skip_holidays and (name := holiday_name(local_day)) is not None:
        log.info("schedule %s: skipped on %s (%s)", schedule.id, local_day, name)
        return FireResult(None, "holiday")
    if (kind := ctx.registry.schedule_kinds.get(schedule.kind)) is not None:
        return kind.fire(ctx, schedule, fire_at, key)
    window = timedelta(hours=schedule.window_hours)
    run = run_repo(ctx).create(
        {
            "fire_key": key,
            "schedule_id": schedule.id,
            "channel_id": schedule.channel_id,
            "kind": schedule.kind,
            "delivery": schedule.delivery,
            "private": schedule.private,
            "fire_at": fire_at,
            "remind_at": fire_at + window * REMIND_AT,
            "closes_at": fire_at + window,
            "status": RunStatus.OPEN,
        }
    )
    if run is None:
        return FireResult(None, "duplicate")
    return FireResult(run.id)


def casus_followups(ctx: HandlerContext, after: timedelta) -> list[int]:
    """Runs asking inbrengers how their "stap voor morgen" went, ``after`` their closing."""
    from sqlalchemy import select

    now = ctx.now()
    session = ctx.session
    # Only casussen closed in the week before the follow-up moment: switching the feature on
    # must not flood people about old casussen.
    due = session.scalars(
        select(Casus).where(
            Casus.status == CasusStatus.CLOSED,
            Casus.closed_at <= now - after,
            Casus.closed_at > now - after - timedelta(days=7),
        )
    )
    created: list[int] = []
    for casus in due:
        if casus.anonymous:
            continue  # no one to ask: only a keyed hash of the inbrenger is kept
        run = run_repo(ctx).create(
            {
                "fire_key": f"casus:{casus.id}",
                "casus_id": casus.id,
                "channel_id": casus.channel_id,
                "kind": FOLLOWUP_KIND,
                "delivery": "dm",
                "private": True,
                "fire_at": now,
                "remind_at": now + timedelta(days=5),
                "closes_at": now + timedelta(days=7),
                "status": RunStatus.OPEN,
            }
        )
        if run is not None:
            run_repo(ctx).add_recipients(run, [casus.inbrenger.platform_user_id], "pending")
            created.append(run.id)
    return created


def list_recipients(ctx: HandlerContext, run_id: int, members: list[str]) -> None:
    """Record who a run is for. Snoozed people are skipped; in channel mode the post reaches
    everyone at once, so rows only track answers and reminders."""
    run = run_repo(ctx).get(run_id)
    if run is None or run.recipients_listed:
        return
    today = ctx.now().astimezone(ZoneInfo(_zone_of(run))).date()
    active, snoozed = [], []
    for user_id in dict.fromkeys(members):
        member = ctx.repos.members.find(run.channel.platform, user_id)
        if (
            member is not None
            and member.snoozed_until is not None
            and member.snoozed_until >= today
        ):
            snoozed.append(user_id)
        else:
            active.append(user_id)
    run_repo(ctx).add_recipients(run, active, "pending" if run.delivery == "dm" else "channel")
    run_repo(ctx).add_recipients(run, snoozed, "skipped")


@dataclass(frozen=True)
class Reminder:
    run_id: int
    platform: str
    deliveries: tuple[tuple[int, str, str], ...]  # (delivery id, user id, reminder status)
    card: Card


def list_reminders(ctx: HandlerContext) -> int:
    """Write a pending reminder row for everyone who has not answered a run that reached its
    reminder moment, in one transaction with ``run.reminded``. The scheduler sends them
    afterwards like the prompt DMs, so a crash or a failed send loses none and sends none twice.
    """
    listed = 0
    for run in run_repo(ctx).due_for_reminder(ctx.now()):
        answered = run_repo(ctx).answered_user_ids(run)
        for delivery in run_repo(ctx).deliveries(run):
            if (
                delivery.status in {"sent", "channel"}
                and delivery.reminded_at is None
                and delivery.reminder_status is None
                and delivery.user_id not in answered
            ):
                delivery.reminder_status = "pending"
                listed += 1
        run.reminded = True
    return listed


def pending_reminders(ctx: HandlerContext) -> list[Reminder]:
    """Reminders not sent yet (or being sent when a process died) of runs still open."""
    from sqlalchemy import select

    session = ctx.session
    runs = session.scalars(
        select(PromptRun)
        .where(
            PromptRun.status == RunStatus.OPEN,
            PromptRun.closes_at > ctx.now(),
            PromptRun.id.in_(
                select(PromptDelivery.run_id).where(waiting(PromptDelivery.reminder_status))
            ),
        )
        .order_by(PromptRun.id)
    )
    out: list[Reminder] = []
    for run in runs:
        targets = tuple(
            (d.id, d.user_id, str(d.reminder_status))
            for d in run_repo(ctx).deliveries(run)
            if d.reminder_status in ("pending", "sending")
        )
        out.append(Reminder(run.id, run.channel.platform, targets, reminder_card(ctx.texts, run)))
    return out


def reminder_card(texts: Texts, run: PromptRun) -> Card:
    deck = deck_of(texts, run.kind)
    text = texts.rich(
        "reflectie.prompt.reminder",
        kind=deck.name,
        until=texts.moment(run.closes_at, _zone_of(run)),
    )
    button = Button(ACTION_ANSWER, texts.get("reflectie.prompt.button"), str(run.id), "primary")
    return Card((Section(text), Actions((button,))), fallback=text)


def mark_reminded(ctx: HandlerContext, delivery_id: int, error: str | None = None) -> None:
    delivery = run_repo(ctx).delivery(delivery_id)
    if delivery is None:
        return
    if error is None:
        delivery.reminder_status = "sent"
        delivery.reminded_at = ctx.now()
    else:
        delivery.reminder_status = "failed"


def mark_posted(ctx: HandlerContext, run_id: int, message_id: str) -> None:
    run = run_repo(ctx).get(run_id)
    if run is not None:
        run.message_id = message_id
        ctx.repos.posted.record(
            run.channel.platform, run.channel.platform_channel_id, message_id, "prompt_run", run.id
        )


@dataclass(frozen=True)
class Closing:
    run_id: int
    place: Place
    thread_id: str | None
    card: Card
    status: str  # pending | posting (an earlier attempt may have arrived)
    since: datetime


def close_due(ctx: HandlerContext) -> list[int]:
    """Close every run whose window ended. Its summary is owed from the same transaction on
    (``summary_status``); reminders that did not go out by now are not sent any more, nor
    are prompt DMs still waiting (for someone whose working day did not come before the
    window closed: handlers/core/workdays.py)."""
    closed: list[int] = []
    for run in run_repo(ctx).due_for_closing(ctx.now()):
        run.status = RunStatus.CLOSED
        for delivery in run_repo(ctx).deliveries(run):
            if delivery.reminder_status in ("pending", "sending"):
                delivery.reminder_status = "expired"
            if delivery.status == "pending":
                delivery.status = "expired"
        if run.kind != FOLLOWUP_KIND:
            run.summary_status = "pending"
        closed.append(run.id)
    return closed


def pending_summaries(ctx: HandlerContext) -> list[Closing]:
    from sqlalchemy import select

    session = ctx.session
    runs = session.scalars(
        select(PromptRun).where(waiting(PromptRun.summary_status, UNPOSTED)).order_by(PromptRun.id)
    )
    return [
        Closing(
            run.id,
            place_of(run.channel),
            run.message_id,
            summary_card(ctx, run),
            str(run.summary_status),
            run.closes_at,
        )
        for run in runs
    ]


def summary_card(ctx: HandlerContext, run: PromptRun) -> Card:
    """ "x van y deelden iets" as it stood at closing: answers given later do not count, so a
    summary posted after a retry says the same as one posted at once."""
    texts = ctx.texts
    participants = [d for d in run_repo(ctx).deliveries(run) if d.status in {"sent", "channel"}]
    answered = {a.member.platform_user_id for a in run_repo(ctx).answers(run) if not a.late}
    total = len(participants)
    shared = len({d.user_id for d in participants} & answered)
    key = "reflectie.prompt.summary_private" if run.private else "reflectie.prompt.summary"
    text = texts.rich(key, kind=deck_of(texts, run.kind).name, answered=shared, total=total)
    return Card((Section(text),), fallback=text)


def mark_summary_posted(ctx: HandlerContext, run_id: int, error: str | None = None) -> None:
    run = run_repo(ctx).get(run_id)
    if run is not None:
        run.summary_status = "posted" if error is None else "failed"
