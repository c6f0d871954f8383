"""Planning speedsparren: the speedspar schedule (a schedule kind, so holidays, pauses and
the missed-run grace are those of every schedule), its form and what firing it does."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, FormSubmitted
from handlers.core.forms import clean_text
from handlers.core.registry import FireResult, KindOption, ScheduleError
from handlers.core.replies import (
    DirectMessage,
    Ephemeral,
    Form,
    FormErrors,
    OpenForm,
    Option,
    Reply,
    Select,
    TextInput,
)
from handlers.core.router import Router
from handlers.core.schedules import RuleError, describe_rule, next_fire, parse_rule
from handlers.ids import parse_number
from handlers.speedsparren.common import (
    ACTION_PLAN,
    DEFAULT_DECK,
    DEFAULT_MINUTES,
    DEFAULT_ROUNDS,
    DEFAULT_SIGNUP,
    FORM_SCHEDULE,
    MINUTES,
    ROUNDS,
    SCHEDULE_KIND,
    SIGNUP,
    SIGNUP_NOW,
    clock_time,
    is_facilitator,
    notice_card,
)
from handlers.speedsparren.queries import speedspar_repo
from handlers.speedsparren.rounds import Request, create_session
from prompts import Texts
from storage.models import (
    Channel,
    Member,
    Schedule,
    SpeedsparSession,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewSchedule:
    """What a facilitator plans: ``rule`` as typed (``vrijdag 15:00``) is when the announcement
    goes out; the first round starts ``signup_minutes`` later."""

    rule: str
    rounds: int = DEFAULT_ROUNDS
    minutes: int = DEFAULT_MINUTES
    deck: str = DEFAULT_DECK
    signup_minutes: int = DEFAULT_SIGNUP
    facilitator_fills: bool = False
    skip_holidays: bool = True


class PlanError(ScheduleError):
    """Bad input for a speedspar schedule: a friendly message per form field."""


def _decks(texts: Texts) -> list[str]:
    return [k for k in texts.decks if k != "casus-vervolg"]


def check_schedule(texts: Texts, spec: NewSchedule, creator: Member | None) -> dict[str, str]:
    """Errors per form field (``wanneer``, ``rondes``, ``minuten``, ``aanmelden``, ``vragen``,
    ``begeleider``); empty when the schedule may be stored."""
    errors: dict[str, str] = {}
    try:
        parse_rule(spec.rule)
    except RuleError as exc:
        errors["wanneer"] = texts.rich("reflectie.bad_rule", problem=exc.explain(texts)).plain()
    for field, value, key, bounds in (
        ("rondes", spec.rounds, "speedsparren.bad_rounds", ROUNDS),
        ("minuten", spec.minutes, "speedsparren.bad_minutes", MINUTES),
        ("aanmelden", spec.signup_minutes, "speedsparren.plan.bad_signup", SIGNUP),
    ):
        if not bounds[0] <= value <= bounds[1]:
            errors[field] = texts.rich(key, min=bounds[0], max=bounds[1]).plain()
    if spec.deck not in _decks(texts):
        errors["vragen"] = texts.rich(
            "speedsparren.bad_deck", deck=spec.deck, decks=", ".join(_decks(texts))
        ).plain()
    if spec.facilitator_fills and creator is None:
        errors["begeleider"] = texts.get("speedsparren.plan.fill_needs_person")
    return errors


def create_schedule(
    ctx: HandlerContext, channel: Channel, spec: NewSchedule, creator: Member | None
) -> Schedule:
    """Also used by the CLI. Raises PlanError; nothing is stored then."""
    errors = check_schedule(ctx.texts, spec, creator)
    if errors:
        raise PlanError(errors)
    cron = parse_rule(spec.rule)
    return ctx.repos.schedules.add(
        Schedule(
            channel_id=channel.id,
            kind=SCHEDULE_KIND,
            cron=cron,
            timezone=ctx.zone,
            delivery="channel",
            private=False,
            skip_holidays=spec.skip_holidays,
            window_hours=48,
            paused=False,
            next_fire_at=next_fire(cron, ctx.zone, ctx.now()),
            rounds=spec.rounds,
            minutes=spec.minutes,
            deck=spec.deck,
            signup_minutes=spec.signup_minutes,
            facilitator_fills=spec.facilitator_fills,
            created_by_id=creator.id if creator else None,
            created_at=ctx.now(),
        )
    )


def schedule_details(texts: Texts, schedule: Schedule) -> str:
    """``3 rondes van 6 minuten, eerste ronde 10 minuten na de aankondiging`` (overviews)."""
    details = texts.rich(
        "speedsparren.plan.details",
        rounds=texts.count("ronde", schedule.rounds or DEFAULT_ROUNDS),
        minutes=texts.count("minuut", schedule.minutes or DEFAULT_MINUTES),
        signup=texts.count("minuut", schedule.signup_minutes or DEFAULT_SIGNUP),
    ).plain()
    if schedule.facilitator_fills:
        details += ", " + texts.get("speedsparren.plan.details_fills")
    return details


def schedule_form(texts: Texts) -> Form:
    def number(field_id: str, initial: int) -> TextInput:
        return TextInput(
            field_id,
            texts.get(f"speedsparren.plan.{field_id}"),
            required=True,
            max_length=3,
            initial=str(initial),
            hint=texts.get(f"speedsparren.plan.{field_id}_hint"),
        )

    decks = tuple(Option(k, texts.decks[k].name) for k in _decks(texts))
    fill = tuple(Option(v, texts.get(f"speedsparren.plan.begeleider_{v}")) for v in ("nee", "ja"))
    holidays = tuple(Option(v, texts.get(f"reflectie.form.holidays_{v}")) for v in ("skip", "keep"))
    return Form(
        form_id=FORM_SCHEDULE,
        title=texts.get("speedsparren.plan.title"),
        submit_label=texts.get("reflectie.form.submit"),
        cancel_label=texts.get("reflectie.form.cancel"),
        fields=(
            TextInput(
                "wanneer",
                texts.get("speedsparren.plan.wanneer"),
                required=True,
                max_length=100,
                placeholder=texts.get("reflectie.form.when_placeholder"),
                hint=texts.get("speedsparren.plan.wanneer_hint"),
            ),
            number("aanmelden", DEFAULT_SIGNUP),
            number("rondes", DEFAULT_ROUNDS),
            number("minuten", DEFAULT_MINUTES),
            Select("vragen", texts.get("speedsparren.plan.vragen"), decks, initial=DEFAULT_DECK),
            Select("begeleider", texts.get("speedsparren.plan.begeleider"), fill, initial="nee"),
            Select("feestdagen", texts.get("reflectie.form.holidays"), holidays, initial="skip"),
        ),
    )


def start_plan(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    if not is_facilitator(ctx, ctx.member(event.actor)):
        return [Ephemeral(ctx.texts.rich("speedsparren.only_facilitators"))]
    return [OpenForm(schedule_form(ctx.texts))]


def _whole(text: str) -> int:
    """A typed whole number; -1 (out of every range) for anything else."""
    number = parse_number(text, 0, 9999)
    return -1 if number is None else number


def submit_schedule(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    if not is_facilitator(ctx, member):
        return [Ephemeral(texts.rich("speedsparren.only_facilitators"))]
    if event.place is None:
        return [Ephemeral(texts.rich("general.error_generic"))]
    spec = NewSchedule(
        rule=clean_text(event.text("wanneer")),
        rounds=_whole(clean_text(event.text("rondes")) or str(DEFAULT_ROUNDS)),
        minutes=_whole(clean_text(event.text("minuten")) or str(DEFAULT_MINUTES)),
        deck=event.text("vragen") or DEFAULT_DECK,
        signup_minutes=_whole(clean_text(event.text("aanmelden")) or str(DEFAULT_SIGNUP)),
        facilitator_fills=event.text("begeleider") == "ja",
        skip_holidays=event.text("feestdagen") != "keep",
    )
    place = event.place
    channel = ctx.repos.channels.ensure(place.platform, place.channel_id, place.team_id, place.name)
    try:
        schedule = create_schedule(ctx, channel, spec, member)
    except PlanError as exc:
        return [FormErrors(exc.errors)]
    assert schedule.next_fire_at is not None
    return [
        Ephemeral(
            texts.rich(
                "speedsparren.plan.added",
                id=schedule.id,
                when=describe_rule(schedule.cron, texts),
                details=schedule_details(texts, schedule),
                at=clock_time(texts, schedule.next_fire_at, schedule.timezone, ctx.now()),
            )
        )
    ]


def fire_schedule(
    ctx: HandlerContext, schedule: Schedule, fire_at: datetime, key: str
) -> FireResult:
    """A speedspar schedule is due: start a session through the path of /speedsparren.

    The session row, with the firing's unique key, is written before anything is sent; the
    scheduler then posts the announcement. A run fired late (within the grace) still gets a
    short sign-up window. A channel with a session still going gets no second one.
    """
    if speedspar_repo(ctx).by_fire_key(key) is not None:
        return FireResult(None, "duplicate", kind=SCHEDULE_KIND)
    channel = schedule.channel
    active = speedspar_repo(ctx).active_in_channel(channel.id)
    creator = ctx.repos.members.get(schedule.created_by_id) if schedule.created_by_id else None
    if active is not None:
        log.warning(
            "schedule %s: speedspar session %s is still %s in channel %s; no second session",
            schedule.id, active.id, active.status.value, channel.id,
        )  # fmt: skip
        notice = _busy_notice(ctx, schedule, active, creator)
        return FireResult(None, "busy", notice=notice, kind=SCHEDULE_KIND)
    signup = timedelta(minutes=schedule.signup_minutes or DEFAULT_SIGNUP)
    request = Request(
        starts_at=max(fire_at + signup, ctx.now() + SIGNUP_NOW),
        rounds=schedule.rounds or DEFAULT_ROUNDS,
        minutes=schedule.minutes or DEFAULT_MINUTES,
        deck=schedule.deck if schedule.deck in ctx.texts.decks else DEFAULT_DECK,
        facilitator_fills=schedule.facilitator_fills,
    )
    speedspar = create_session(ctx, channel, request, creator, schedule=schedule, fire_key=key)
    log.info("schedule %s started speedspar session %s", schedule.id, speedspar.id)
    return FireResult(None, started_id=speedspar.id, kind=SCHEDULE_KIND)


def _busy_notice(
    ctx: HandlerContext,
    schedule: Schedule,
    active: SpeedsparSession,
    creator: Member | None,
) -> DirectMessage | None:
    """Tell whoever planned the schedule (else whoever started the running session)."""
    person = creator
    if person is None and active.created_by_id is not None:
        person = ctx.repos.members.get(active.created_by_id)
    channel = schedule.channel
    if person is None or person.platform != channel.platform:
        return None
    text = ctx.texts.rich(
        "speedsparren.plan.busy",
        schedule=schedule.id,
        channel=channel.name or channel.platform_channel_id,
        id=active.id,
    )
    return DirectMessage(channel.platform, person.platform_user_id, notice_card(text))


# `leerkring schedule add --kind speedsparren …` (bot/cli_schedule.py builds them from here)
CLI_OPTIONS = (
    KindOption("rounds", f"rounds, {ROUNDS[0]}-{ROUNDS[1]} (default {DEFAULT_ROUNDS}).", "int"),
    KindOption(
        "minutes",
        f"minutes per round, {MINUTES[0]}-{MINUTES[1]} (default {DEFAULT_MINUTES}).",
        "int",
    ),
    KindOption("deck", f"question deck (default {DEFAULT_DECK})."),
    KindOption(
        "signup-minutes",
        f"minutes from the announcement to the first round, {SIGNUP[0]}-{SIGNUP[1]} "
        f"(default {DEFAULT_SIGNUP}).",
        "int",
    ),
    KindOption("fill-odd-seat", "--facilitator fills an odd seat.", "flag"),
)


def schedule_from_cli(
    ctx: HandlerContext,
    channel: Channel,
    rule: str,
    values: Mapping[str, Any],
    *,
    skip_holidays: bool,
    creator: Member | None,
) -> Schedule:
    def given(name: str, default: Any) -> Any:
        value = values.get(name)
        return default if value is None else value

    plan = NewSchedule(
        rule,
        rounds=given("rounds", DEFAULT_ROUNDS),
        minutes=given("minutes", DEFAULT_MINUTES),
        deck=given("deck", DEFAULT_DECK),
        signup_minutes=given("signup-minutes", DEFAULT_SIGNUP),
        facilitator_fills=bool(values.get("fill-odd-seat")),
        skip_holidays=skip_holidays,
    )
    return create_schedule(ctx, channel, plan, creator)


def register(router: Router) -> None:
    router.action(ACTION_PLAN, start_plan)
    router.form(FORM_SCHEDULE, submit_schedule)
