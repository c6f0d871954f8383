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
from datetime import date, datetime

from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, CommandInvoked, FormSubmitted, Place, ThreadMessage
from handlers.core.forms import FieldRule, clean_text
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
from handlers.reflection.steps import (
    ACTION_ANSWER,
    FOLLOWUP_KIND,
    fire_run,
    local_time,  # noqa: F401  (the command line writes times with it: bot/cli_schedule.py)
)
from handlers.reflection.steps import deck_of as _deck
from handlers.reflection.steps import place_of as _place
from prompts import Deck, Texts
from storage.models import (
    Channel,
    Member,
    PromptRun,
    RunStatus,
    Schedule,
)

log = logging.getLogger(__name__)

COMMAND = "reflectie"
ACTION_ADD = "reflectie_nieuw"
ACTION_PAUSE = "reflectie_pauze"
ACTION_RESUME = "reflectie_hervat"
ACTION_DELETE = "reflectie_verwijder"
ACTION_SEND_NOW = "reflectie_nu"
FORM_SCHEDULE = "reflectie_schema"
FORM_ANSWER = "reflectie_antwoord"


# --- helpers ------------------------------------------------------------------------------------


def _facilitator(ctx: HandlerContext, member: Member) -> bool:
    return member.is_facilitator or member.platform_user_id in ctx.facilitators


def _refuse(ctx: HandlerContext) -> list[Reply]:
    return [Ephemeral(ctx.texts.rich("reflectie.only_facilitators"))]


def parse_date(text: str) -> date | None:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _channel(ctx: HandlerContext, place: Place) -> Channel:
    return ctx.repos.channels.ensure(place.platform, place.channel_id, place.team_id, place.name)


# --- /reflectie ---------------------------------------------------------------------------------


def reflectie_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    words = event.text.split()
    sub = words[0].lower() if words else ""
    if sub in {"afwezig", "snooze", "sluimer"}:
        return _snooze(ctx, member, words[1:])
    if not _facilitator(ctx, member):
        return _refuse(ctx)
    channel = _channel(ctx, event.place)
    if sub in {"pauze", "pause"}:
        until = parse_date(words[1]) if len(words) > 1 else None
        if until is None:
            return [Ephemeral(texts.rich("reflectie.bad_date"))]
        channel.paused_until = until
        return [Ephemeral(texts.rich("reflectie.channel_paused", until=texts.day(until)))]
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
    return [Ephemeral(texts.rich("reflectie.snoozed", until=texts.day(until)))]


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
            at = texts.moment(schedule.next_fire_at, schedule.timezone)
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
            "reflectie.state_channel_paused", until=texts.day(channel.paused_until)
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
        raise RuleError(f"unknown kind {spec.kind!r}", "unknown_kind", value=spec.kind)
    if spec.delivery not in {"channel", "dm"}:
        raise RuleError(
            f"unknown delivery {spec.delivery!r}", "unknown_delivery", value=spec.delivery
        )
    if not 1 <= spec.window_hours <= 336:
        raise RuleError("window must be 1 to 336 hours", "window")
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
        return [
            FormErrors(
                {"wanneer": texts.rich("reflectie.bad_rule", problem=exc.explain(texts)).plain()}
            )
        ]
    assert schedule.next_fire_at is not None
    return [
        Ephemeral(
            texts.rich(
                "reflectie.added",
                id=schedule.id,
                kind=_deck(texts, schedule.kind).name,
                when=describe_rule(schedule.cron, texts),
                at=texts.moment(schedule.next_fire_at, schedule.timezone),
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
                at=ctx.texts.moment(schedule.next_fire_at, schedule.timezone),
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
        return [Ephemeral(thread_notice(findings, ctx.texts.on(event.actor.platform)))]
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
