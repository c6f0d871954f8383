"""Scheduled reflection: facilitators plan prompts per channel, people answer them.

Two halves live here, both platform-neutral and synchronous:
- chat handlers (``/reflectie``, the planning form, the answer form and its buttons);
- the engine steps the scheduler calls inside one transaction each (fire due schedules,
  list recipients, remind, close, casus follow-ups). The scheduler (bot/scheduler.py) does
  the sending between those steps.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, CommandInvoked, FormSubmitted, Place, ThreadMessage
from handlers.core.forms import FieldRule, clean_text
from handlers.core.registry import FireResult
from handlers.core.replies import (
    Actions,
    Block,
    Button,
    Card,
    Context,
    DirectMessage,
    Ephemeral,
    Form,
    FormErrors,
    FormField,
    Header,
    Mention,
    OpenForm,
    Option,
    PostMessage,
    Reply,
    Rich,
    Section,
    Select,
    TextInput,
    rich,
)
from handlers.core.router import Router
from handlers.core.schedules import (
    RuleError,
    describe_rule,
    holiday_name,
    next_fire,
    parse_rule,
)
from handlers.ids import parse_id, parse_number
from handlers.privacy.flow import (
    CHECK,
    PRIVACY_FIELD,
    check_submission,
    finds_names,
    privacy_choice_field,
    pseudonymise_posted,
    thread_notice,
)
from handlers.reflection.queries import run_repo
from prompts import Deck, Texts
from storage.models import (
    UNPOSTED,
    Casus,
    CasusStatus,
    Channel,
    Member,
    PromptDelivery,
    PromptRun,
    RunStatus,
    Schedule,
    waiting,
)

log = logging.getLogger(__name__)

COMMAND = "reflectie"
ACTION_ANSWER = "reflectie_antwoord"
ACTION_ADD = "reflectie_nieuw"
ACTION_PAUSE = "reflectie_pauze"
ACTION_RESUME = "reflectie_hervat"
ACTION_DELETE = "reflectie_verwijder"
ACTION_SEND_NOW = "reflectie_nu"
FORM_SCHEDULE = "reflectie_schema"
FORM_ANSWER = "reflectie_antwoord"
FOLLOWUP_KIND = "casus-vervolg"
REMIND_AT = 0.8  # share of the response window after which non-responders get a reminder


# --- helpers ------------------------------------------------------------------------------------


def _facilitator(ctx: HandlerContext, member: Member) -> bool:
    return member.is_facilitator or member.platform_user_id in ctx.facilitators


def _refuse(ctx: HandlerContext) -> list[Reply]:
    return [Ephemeral(ctx.texts.rich("reflectie.only_facilitators"))]


def local_time(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y %H:%M")


def parse_date(text: str) -> date | None:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _deck(texts: Texts, kind: str) -> Deck:
    return texts.decks[kind]


def _channel(ctx: HandlerContext, place: Place) -> Channel:
    return ctx.repos.channels.ensure(place.platform, place.channel_id, place.team_id, place.name)


def _place(channel: Channel) -> Place:
    return Place(channel.platform, channel.platform_channel_id, channel.team_id, channel.name)


# --- /reflectie ---------------------------------------------------------------------------------


def reflectie_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    words = event.text.split()
    sub = words[0].lower() if words else ""
    if sub in {"snooze", "sluimer"}:
        return _snooze(ctx, member, words[1:])
    if not _facilitator(ctx, member):
        return _refuse(ctx)
    channel = _channel(ctx, event.place)
    if sub in {"pauze", "pause"}:
        until = parse_date(words[1]) if len(words) > 1 else None
        if until is None:
            return [Ephemeral(texts.rich("reflectie.bad_date"))]
        channel.paused_until = until
        return [Ephemeral(texts.rich("reflectie.channel_paused", until=until.strftime("%d-%m-%Y")))]
    if sub in {"hervat", "resume"}:
        channel.paused_until = None
        return [Ephemeral(texts.rich("reflectie.channel_resumed"))]
    if sub:
        return [Ephemeral(texts.rich("reflectie.usage"))]
    return [overview(ctx, channel)]


def _snooze(ctx: HandlerContext, member: Member, args: list[str]) -> list[Reply]:
    texts = ctx.texts
    if args and args[0].lower() in {"uit", "off", "stop"}:
        member.snoozed_until = None
        return [Ephemeral(texts.rich("reflectie.unsnoozed"))]
    until = parse_date(args[0]) if args else None
    if until is None:
        return [Ephemeral(texts.rich("reflectie.bad_date"))]
    member.snoozed_until = until
    return [Ephemeral(texts.rich("reflectie.snoozed", until=until.strftime("%d-%m-%Y")))]


def overview(ctx: HandlerContext, channel: Channel) -> Ephemeral:
    texts = ctx.texts
    schedules = ctx.repos.schedules.in_channel(channel)
    blocks: list[Block] = [Header(texts.get("reflectie.list_header"))]
    lines: list[str] = []
    if not schedules:
        blocks.append(Section(texts.rich("reflectie.none")))
        lines.append(texts.get("reflectie.none"))
    for schedule in schedules:
        item = _schedule_line(ctx, schedule, channel)
        lines.append(item.plain())
        blocks.append(Section(item))
        if schedule.next_fire_at is not None and not schedule.paused:
            at = local_time(schedule.next_fire_at, schedule.timezone)
            blocks.append(Context(texts.rich("reflectie.next_run", at=at)))
        toggle = (
            Button(ACTION_RESUME, texts.get("reflectie.resume"), str(schedule.id))
            if schedule.paused
            else Button(ACTION_PAUSE, texts.get("reflectie.pause"), str(schedule.id))
        )
        blocks.append(
            Actions(
                (
                    Button(ACTION_SEND_NOW, _send_now_label(ctx, schedule), str(schedule.id)),
                    toggle,
                    Button(
                        ACTION_DELETE, texts.get("reflectie.delete"), str(schedule.id), "danger"
                    ),
                )
            )
        )
    blocks.append(
        Actions(
            (
                Button(ACTION_ADD, texts.get("reflectie.add"), "new", style="primary"),
                *(
                    button
                    for kind in ctx.registry.schedule_kinds.values()
                    if (button := kind.plan_button(texts)) is not None
                ),
            )
        )
    )
    fallback = rich("{text}", text="\n".join(lines))
    return Ephemeral(fallback, Card(tuple(blocks), fallback=fallback))


def _send_now_label(ctx: HandlerContext, schedule: Schedule) -> str:
    if (kind := ctx.registry.schedule_kinds.get(schedule.kind)) is not None:
        return kind.send_now_label(ctx.texts)
    return ctx.texts.get("reflectie.send_now")


def _schedule_line(ctx: HandlerContext, schedule: Schedule, channel: Channel) -> Rich:
    texts = ctx.texts
    if (feature := ctx.registry.schedule_kinds.get(schedule.kind)) is not None:
        kind = feature.label(texts)
        delivery = feature.details(texts, schedule)
    else:
        kind = _deck(texts, schedule.kind).name
        delivery = texts.get(f"reflectie.delivery_{schedule.delivery}")
    if schedule.private:
        delivery += ", " + texts.get("reflectie.delivery_private")
    state = ""
    if schedule.paused:
        state = texts.get("reflectie.state_paused")
    elif channel.paused_until is not None:
        state = texts.rich(
            "reflectie.state_channel_paused", until=channel.paused_until.strftime("%d-%m-%Y")
        ).plain()
    return texts.rich(
        "reflectie.list_item",
        id=schedule.id,
        kind=kind,
        when=describe_rule(schedule.cron, texts),
        delivery=delivery,
        state=state,
    )


def schedule_form(texts: Texts) -> Form:
    kinds = tuple(Option(k, d.name) for k, d in texts.decks.items() if k != FOLLOWUP_KIND)
    fields: tuple[FormField, ...] = (
        Select("soort", texts.get("reflectie.form.kind"), kinds, initial="wat-ging-goed"),
        TextInput(
            "wanneer",
            texts.get("reflectie.form.when"),
            required=True,
            max_length=100,
            placeholder=texts.get("reflectie.form.when_placeholder"),
            hint=texts.get("reflectie.form.when_hint"),
        ),
        _choice(texts, "bezorging", "delivery", ("channel", "dm")),
        _choice(texts, "antwoorden", "answers", ("public", "private")),
        _choice(texts, "feestdagen", "holidays", ("skip", "keep")),
        TextInput(
            "venster",
            texts.get("reflectie.form.window"),
            required=True,
            max_length=3,
            initial="48",
            hint=texts.get("reflectie.form.window_hint"),
        ),
    )
    return Form(
        form_id=FORM_SCHEDULE,
        title=texts.get("reflectie.form.title"),
        submit_label=texts.get("reflectie.form.submit"),
        cancel_label=texts.get("reflectie.form.cancel"),
        fields=fields,
    )


def _choice(texts: Texts, field_id: str, key: str, values: tuple[str, ...]) -> Select:
    """A planning-form choice labelled from ``reflectie.form.<key>_<value>``; first is default."""
    options = tuple(Option(v, texts.get(f"reflectie.form.{key}_{v}")) for v in values)
    return Select(field_id, texts.get(f"reflectie.form.{key}"), options, initial=values[0])


def start_add(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    if not _facilitator(ctx, ctx.member(event.actor)):
        return _refuse(ctx)
    return [OpenForm(schedule_form(ctx.texts))]


@dataclass(frozen=True)
class NewSchedule:
    kind: str
    rule: str
    delivery: str = "channel"
    private: bool = False
    skip_holidays: bool = True
    window_hours: int = 48


def create_schedule(
    ctx: HandlerContext, channel: Channel, spec: NewSchedule, creator: Member | None
) -> Schedule:
    """Also used by the CLI. ``spec.rule`` is what a person typed; raises RuleError."""
    if spec.kind not in ctx.texts.decks or spec.kind == FOLLOWUP_KIND:
        raise RuleError(f"unknown kind {spec.kind!r}")
    if spec.delivery not in {"channel", "dm"}:
        raise RuleError(f"unknown delivery {spec.delivery!r}")
    if not 1 <= spec.window_hours <= 336:
        raise RuleError("window must be 1 to 336 hours")
    cron = parse_rule(spec.rule)
    schedule = Schedule(
        channel_id=channel.id,
        kind=spec.kind,
        cron=cron,
        timezone=ctx.zone,
        delivery=spec.delivery,
        private=spec.private,
        skip_holidays=spec.skip_holidays,
        window_hours=spec.window_hours,
        paused=False,
        next_fire_at=next_fire(cron, ctx.zone, ctx.now()),
        created_by_id=creator.id if creator else None,
        created_at=ctx.now(),
    )
    return ctx.repos.schedules.add(schedule)


def submit_schedule(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    if not _facilitator(ctx, member):
        return _refuse(ctx)
    if event.place is None:
        return [Ephemeral(texts.rich("general.error_generic"))]
    window_text = clean_text(event.text("venster")) or "48"
    window_hours = parse_number(window_text, 1, 336)
    if window_hours is None:
        return [FormErrors({"venster": texts.get("reflectie.form.window_bad")})]
    spec = NewSchedule(
        kind=event.text("soort") or "wat-ging-goed",
        rule=clean_text(event.text("wanneer")),
        delivery=event.text("bezorging") or "channel",
        private=event.text("antwoorden") == "private",
        skip_holidays=event.text("feestdagen") != "keep",
        window_hours=window_hours,
    )
    try:
        schedule = create_schedule(ctx, _channel(ctx, event.place), spec, member)
    except RuleError as exc:
        return [FormErrors({"wanneer": texts.rich("reflectie.bad_rule", problem=str(exc)).plain()})]
    assert schedule.next_fire_at is not None
    return [
        Ephemeral(
            texts.rich(
                "reflectie.added",
                id=schedule.id,
                kind=_deck(texts, schedule.kind).name,
                when=describe_rule(schedule.cron, texts),
                at=local_time(schedule.next_fire_at, schedule.timezone),
            )
        )
    ]


def _managed_schedule(event: ButtonPressed, ctx: HandlerContext) -> Schedule | list[Reply]:
    if not _facilitator(ctx, ctx.member(event.actor)):
        return _refuse(ctx)
    schedule_id = parse_id(event.value)
    schedule = None if schedule_id is None else ctx.repos.schedules.get(schedule_id)
    if schedule is None:
        return [Ephemeral(ctx.texts.rich("reflectie.not_found", id=event.value))]
    return schedule


def pause_schedule(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    schedule = _managed_schedule(event, ctx)
    if isinstance(schedule, list):
        return schedule
    schedule.paused = True
    return [Ephemeral(ctx.texts.rich("reflectie.paused", id=schedule.id))]


def resume_schedule(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    schedule = _managed_schedule(event, ctx)
    if isinstance(schedule, list):
        return schedule
    schedule.paused = False
    schedule.next_fire_at = next_fire(schedule.cron, schedule.timezone, ctx.now())
    return [
        Ephemeral(
            ctx.texts.rich(
                "reflectie.resumed",
                id=schedule.id,
                at=local_time(schedule.next_fire_at, schedule.timezone),
            )
        )
    ]


def delete_schedule(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    schedule = _managed_schedule(event, ctx)
    if isinstance(schedule, list):
        return schedule
    schedule_id = schedule.id
    ctx.repos.schedules.delete(schedule)
    return [Ephemeral(ctx.texts.rich("reflectie.deleted", id=schedule_id))]


def send_now(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    schedule = _managed_schedule(event, ctx)
    if isinstance(schedule, list):
        return schedule
    texts = ctx.texts
    result = fire_run(ctx, schedule, ctx.now(), key=f"s{schedule.id}:now:{ctx.now().isoformat()}")
    kind = ctx.registry.schedule_kinds.get(schedule.kind)
    if kind is not None and (replies := kind.fired_now(ctx, schedule, result)) is not None:
        return replies
    if result.run_id is None and result.skipped in {"paused", "holiday"}:
        reason = texts.get(f"reflectie.not_sent_{result.skipped}")
        return [Ephemeral(texts.rich("reflectie.not_sent", id=schedule.id, reason=reason))]
    return [Ephemeral(texts.rich("reflectie.sent_now", id=schedule.id))]


# --- answering ---------------------------------------------------------------------------------


def answer_form(
    texts: Texts, run: PromptRun, intro: Rich | None = None, names: bool = False
) -> Form:
    """``names``: the guard also finds names and places, so the form asks what to do with
    them (handlers/privacy_flow.py)."""
    deck = _deck(texts, run.kind)
    fields: list[FormField] = [
        TextInput(
            q.id,
            q.label,
            required=q.required,
            multiline=True,
            max_length=q.max_length,
            placeholder=q.placeholder,
        )
        for q in deck.questions
    ]
    if names:
        fields.append(privacy_choice_field(texts))
    return Form(
        form_id=FORM_ANSWER,
        title=texts.get("reflectie.prompt.answer_title"),
        submit_label=texts.get("reflectie.prompt.answer_submit"),
        cancel_label=texts.get("reflectie.prompt.answer_cancel"),
        fields=tuple(fields),
        intro=intro or rich("**{name}**\n{intro}", name=deck.name, intro=deck.intro),
        metadata={"run_id": run.id},
    )


def start_answer(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    run_id = parse_id(event.value)
    run = None if run_id is None else run_repo(ctx).get(run_id)
    if run is None or run.kind not in ctx.texts.decks:
        return [Ephemeral(ctx.texts.rich("reflectie.prompt.run_gone"))]
    return [OpenForm(answer_form(ctx.texts, run, names=finds_names(ctx.guard)))]


def submit_answer(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    run_id = parse_id(event.metadata.get("run_id"))
    run = None if run_id is None else run_repo(ctx).get(run_id)
    if run is None or run.kind not in texts.decks:
        return [Ephemeral(texts.rich("reflectie.prompt.run_gone"))]
    deck = _deck(texts, run.kind)
    checked = check_submission(
        {q.id: clean_text(event.text(q.id)) for q in deck.questions},
        [FieldRule(q.id, q.required, q.max_length) for q in deck.questions],
        texts,
        ctx.guard,
        event.text(PRIVACY_FIELD) or CHECK,
    )
    if checked.errors:
        return [FormErrors(checked.errors)]
    values = checked.values
    member = ctx.member(event.actor)
    late = run.status == RunStatus.CLOSED or run.closes_at <= ctx.now()
    for question in deck.questions:
        if values[question.id]:
            run_repo(ctx).save_answer(run, member, question.id, values[question.id], late)
    replies: list[Reply] = [
        Ephemeral(
            texts.rich("reflectie.prompt.answered_late" if late else "reflectie.prompt.answered")
        )
    ]
    shared = _answer_card(texts, deck, values, event.actor.user_id)
    if run.private or run.kind == FOLLOWUP_KIND:
        for facilitator in _facilitators(ctx, run.channel.platform):
            if facilitator != event.actor.user_id:
                replies.append(DirectMessage(run.channel.platform, facilitator, shared))
    elif run.delivery == "channel" and run.message_id and not late:
        replies.append(PostMessage(_place(run.channel), shared, thread_id=run.message_id))
    return replies


def thread_answers(events: Sequence[ThreadMessage], ctx: HandlerContext) -> list[list[Reply]]:
    """A reply typed under a prompt in the channel answers the prompt's question. It is
    already in the channel: findings are replaced before it is stored, and the author is told
    privately (as for a reply under a casus). The replies that arrived together cost one
    lookup of their threads; only those under a prompt go further."""
    run_ids = ctx.repos.posted.objects_by_thread(
        "prompt_run",
        ((event.place.platform, event.place.channel_id, event.thread_id) for event in events),
    )
    replies: list[list[Reply]] = []
    for event in events:
        run_id = run_ids.get((event.place.platform, event.place.channel_id, event.thread_id))
        replies.append([] if run_id is None else _thread_answer(event, run_id, ctx))
    return replies


def _thread_answer(event: ThreadMessage, run_id: int, ctx: HandlerContext) -> list[Reply]:
    run = run_repo(ctx).get(run_id)
    if run is None or run.kind not in ctx.texts.decks:
        return []
    text = clean_text(event.text)
    if not text:
        return []
    question = _deck(ctx.texts, run.kind).questions[0]
    stored, findings = pseudonymise_posted(question.id, text, ctx.guard, ctx.texts)
    late = run.status == RunStatus.CLOSED or run.closes_at <= ctx.now()
    run_repo(ctx).add_to_answer(run, ctx.member(event.actor), question.id, stored, late)
    if findings:
        return [Ephemeral(thread_notice(findings, ctx.texts))]
    return []


def _answer_card(texts: Texts, deck: Deck, values: dict[str, str], user_id: str) -> Card:
    parts = [f"{q.label}\n{values[q.id]}" for q in deck.questions if values[q.id]]
    text = texts.rich(
        "reflectie.prompt.posted_answer", author=Mention(user_id), text="\n\n".join(parts)
    )
    return Card((Section(text),), fallback=text)


def _facilitators(ctx: HandlerContext, platform: str) -> list[str]:
    from sqlalchemy import select

    session = ctx.session
    stored = session.scalars(
        select(Member.platform_user_id).where(
            Member.platform == platform, Member.is_facilitator.is_(True)
        )
    )
    return sorted(set(stored) | set(ctx.facilitators))


# --- engine steps (called by the scheduler, one transaction each) ------------------------------


def prompt_card(texts: Texts, run: PromptRun, casus: Casus | None = None) -> Card:
    deck = _deck(texts, run.kind)
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
                until=local_time(run.closes_at, _zone_of(run)),
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
    deck = _deck(texts, run.kind)
    text = texts.rich(
        "reflectie.prompt.reminder",
        kind=deck.name,
        until=local_time(run.closes_at, _zone_of(run)),
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
    (``summary_status``); reminders that did not go out by now are not sent any more."""
    closed: list[int] = []
    for run in run_repo(ctx).due_for_closing(ctx.now()):
        run.status = RunStatus.CLOSED
        for delivery in run_repo(ctx).deliveries(run):
            if delivery.reminder_status in ("pending", "sending"):
                delivery.reminder_status = "expired"
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
            _place(run.channel),
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
    text = texts.rich(key, kind=_deck(texts, run.kind).name, answered=shared, total=total)
    return Card((Section(text),), fallback=text)


def mark_summary_posted(ctx: HandlerContext, run_id: int, error: str | None = None) -> None:
    run = run_repo(ctx).get(run_id)
    if run is not None:
        run.summary_status = "posted" if error is None else "failed"


def register(router: Router) -> None:
    router.command(COMMAND, reflectie_command)
    router.form(FORM_SCHEDULE, submit_schedule)
    router.form(FORM_ANSWER, submit_answer)
    router.action(ACTION_ADD, start_add)
    router.action(ACTION_PAUSE, pause_schedule)
    router.action(ACTION_RESUME, resume_schedule)
    router.action(ACTION_DELETE, delete_schedule)
    router.action(ACTION_SEND_NOW, send_now)
    router.action(ACTION_ANSWER, start_answer)
    router.thread_messages(thread_answers)
