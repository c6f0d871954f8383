"""Speedsparren: everyone active at once, in pairs, a few short rounds with new partners.

Two halves, both platform-neutral and synchronous, like handlers/reflection.py:
- chat handlers: ``/speedsparren`` (start, cancel or plan), the "Doe mee" and "Ik stop"
  buttons, the takeaway form, and the planning form for a speedspar schedule;
- engine steps the scheduler (bot/speedsparren.py) calls in one transaction each: start a
  session when its schedule fires (through handlers/reflection.py's ``fire_run``, so
  holidays, pauses and the missed-run grace are those of every schedule), advance a session
  past a boundary (start, next round, closing, closed), build the direct messages that were
  recorded as pending, mark them sent, and the channel post (announcement of a scheduled
  session, summary or notice).

The session's state lives in the database. Every direct message is a row (unique per
session, kind, round and person) written before it is sent and marked after, so a restart
resumes the fan-out without sending twice; a round whose end passed while the bot was down
is closed when it comes back.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, CommandInvoked, FormSubmitted, Place
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
    Header,
    Mention,
    OpenForm,
    Option,
    PostMessage,
    Record,
    Reply,
    Rich,
    Section,
    Select,
    TextInput,
)
from handlers.core.router import MessageRef, Router
from handlers.core.schedules import RuleError, describe_rule, next_fire, parse_rule
from handlers.ids import parse_id, parse_number
from handlers.privacy.flow import (
    CHECK,
    PRIVACY_FIELD,
    check_submission,
    finds_names,
    privacy_choice_field,
)
from handlers.speedsparren.harvest import SpeedsparSource
from handlers.speedsparren.pairing import Person, SessionState, pair, pair_round
from handlers.speedsparren.queries import speedspar_repo
from prompts import Texts
from storage.models import (
    Channel,
    Member,
    Schedule,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparStatus,
)

log = logging.getLogger(__name__)

COMMAND = "speedsparren"
ACTION_JOIN = "speedspar_doe_mee"
ACTION_STOP = "speedspar_stop"
ACTION_TAKEAWAY = "speedspar_meenemen"
FORM_TAKEAWAY = "speedspar_meenemen"
RECORD_KIND = "speedspar"
SCHEDULE_KIND = "speedsparren"  # a schedule that starts a session (handlers/reflection.py)
ACTION_PLAN = "speedspar_plannen"
FORM_SCHEDULE = "speedspar_schema"

DEFAULT_ROUNDS = 3
DEFAULT_MINUTES = 6
DEFAULT_DECK = "succesvragen"
ROUNDS = (1, 8)
MINUTES = (2, 30)
SIGNUP_NOW = timedelta(minutes=2)  # "nu": a short moment to click "Doe mee"
DEFAULT_SIGNUP = 10  # a scheduled session: minutes from the announcement to the first round
SIGNUP = (2, 240)
HISTORY_SESSIONS = 5  # pairs from this many recent sessions are avoided
TAKEAWAY_MAX = 500

_CANCEL = {"annuleer", "annuleren", "cancel", "stop", "stoppen"}
_NOW = {"nu", "now"}
_ROUND_WORDS = {"rondes", "ronde", "rounds", "round"}
_MINUTE_WORDS = {"minuten", "minuut", "minutes", "minute", "min"}
_DECK_WORDS = {"vragen", "questions", "deck"}
_FILL_WORDS = {"begeleider", "facilitator"}
_PLAN_WORDS = {"plan", "plannen", "schedule"}
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")


# --- helpers ------------------------------------------------------------------------------------


def _facilitator(ctx: HandlerContext, member: Member) -> bool:
    return member.is_facilitator or member.platform_user_id in ctx.facilitators


def _place(channel: Channel) -> Place:
    return Place(channel.platform, channel.platform_channel_id, channel.team_id, channel.name)


def clock_time(moment: datetime, zone: str, now: datetime | None = None) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    if now is not None and now.astimezone(ZoneInfo(zone)).date() != local.date():
        return local.strftime("%d-%m-%Y %H:%M")
    return local.strftime("%H:%M")


def _at(ctx: HandlerContext, speedspar: SpeedsparSession) -> str:
    return clock_time(speedspar.starts_at, ctx.zone, ctx.now())


# --- /speedsparren ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    starts_at: datetime
    rounds: int = DEFAULT_ROUNDS
    minutes: int = DEFAULT_MINUTES
    deck: str = DEFAULT_DECK
    facilitator_fills: bool = False


class RequestError(ValueError):
    def __init__(self, message: Rich) -> None:
        super().__init__(message.plain())
        self.message = message


def _number(texts: Texts, token: str | None, key: str, bounds: tuple[int, int]) -> int:
    number = None if token is None else parse_number(token, *bounds)
    if number is None:
        raise RequestError(texts.rich(key, min=bounds[0], max=bounds[1]))
    return number


def parse_request(text: str, texts: Texts, now: datetime, zone: str) -> Request:
    """``nu``/``14:30``/``over 10 minuten``, ``rondes 3``, ``minuten 6``, ``vragen <deck>``,
    ``begeleider``; in any order, ``key=value`` allowed. Raises RequestError."""
    tokens = text.lower().replace("=", " ").split()
    starts_at: datetime | None = None
    values: dict[str, object] = {}
    decks = [k for k in texts.decks if k != "casus-vervolg"]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        ahead = tokens[i + 1] if i + 1 < len(tokens) else None
        after = tokens[i + 2] if i + 2 < len(tokens) else None
        if token in _NOW:
            starts_at = now + SIGNUP_NOW
        elif (match := _CLOCK.match(token)) is not None:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour > 23 or minute > 59:
                raise RequestError(texts.rich("speedsparren.bad_time", problem=token))
            local = now.astimezone(ZoneInfo(zone))
            starts_at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if starts_at <= now:
                problem = texts.get("speedsparren.time_passed")
                raise RequestError(texts.rich("speedsparren.bad_time", problem=problem))
        elif token in {"over", "in"} and ahead is not None and after in _MINUTE_WORDS:
            wait = _number(texts, ahead, "speedsparren.bad_minutes", (0, 24 * 60))
            starts_at = now + timedelta(minutes=wait)
            i += 2
        elif token.startswith("+") and token[1:].isdigit():
            wait = _number(texts, token[1:], "speedsparren.bad_minutes", (0, 24 * 60))
            starts_at = now + timedelta(minutes=wait)
        elif token in _ROUND_WORDS:
            values["rounds"] = _number(texts, ahead, "speedsparren.bad_rounds", ROUNDS)
            i += 1
        elif token in _MINUTE_WORDS:
            values["minutes"] = _number(texts, ahead, "speedsparren.bad_minutes", MINUTES)
            i += 1
        elif token.lstrip("-").isdigit() and ahead in _ROUND_WORDS:
            values["rounds"] = _number(texts, token, "speedsparren.bad_rounds", ROUNDS)
            i += 1
        elif token.lstrip("-").isdigit() and ahead in _MINUTE_WORDS:
            values["minutes"] = _number(texts, token, "speedsparren.bad_minutes", MINUTES)
            i += 1
        elif token in _DECK_WORDS:
            if ahead not in decks:
                raise RequestError(
                    texts.rich("speedsparren.bad_deck", deck=ahead or "", decks=", ".join(decks))
                )
            values["deck"] = ahead
            i += 1
        elif token in _FILL_WORDS:
            values["facilitator_fills"] = True
        else:
            raise RequestError(texts.rich("speedsparren.unknown_word", word=token))
        i += 1
    return Request(starts_at=starts_at or now + SIGNUP_NOW, **values)  # type: ignore[arg-type]


def speedsparren_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    if not _facilitator(ctx, member):
        return [Ephemeral(texts.rich("speedsparren.only_facilitators"))]
    channel = ctx.repos.channels.ensure(
        event.place.platform, event.place.channel_id, event.place.team_id, event.place.name
    )
    words = event.text.split()
    if not words:
        return [Ephemeral(_status(ctx, channel))]
    if words[0].lower() in _CANCEL:
        return cancel(ctx, channel)
    if words[0].lower() in _PLAN_WORDS:
        return [OpenForm(schedule_form(texts))]
    try:
        request = parse_request(event.text, texts, ctx.now(), ctx.zone)
    except RequestError as exc:
        return [Ephemeral(exc.message)]
    active = speedspar_repo(ctx).active_in_channel(channel.id)
    if active is not None:
        return [Ephemeral(texts.rich("speedsparren.already", id=active.id))]
    speedspar = create_session(ctx, channel, request, member)
    return [
        Ephemeral(
            texts.rich(
                "speedsparren.started",
                id=speedspar.id,
                at=_at(ctx, speedspar),
                rounds=speedspar.rounds,
                minutes=speedspar.minutes,
            )
        ),
        PostMessage(
            _place(channel),
            announcement(ctx, speedspar),
            record_as=Record(RECORD_KIND, speedspar.id),
        ),
    ]


def _status(ctx: HandlerContext, channel: Channel) -> Rich:
    """Usage, and what the session in this channel is doing (for the facilitator)."""
    texts = ctx.texts
    speedspar = speedspar_repo(ctx).active_in_channel(channel.id)
    if speedspar is None:
        usage = texts.rich("speedsparren.usage")
        planned = [
            (s.next_fire_at, s)
            for s in ctx.repos.schedules.in_channel(channel)
            if s.kind == SCHEDULE_KIND and not s.paused and s.next_fire_at is not None
        ]
        if not planned:
            return usage
        at, first = min(planned, key=lambda item: item[0])
        upcoming = texts.rich(
            "speedsparren.plan.upcoming",
            id=first.id,
            when=describe_rule(first.cron, texts),
            at=clock_time(at, first.timezone, ctx.now()),
        )
        return Rich(f"{usage.template}\n{upcoming.template}", {**usage.params, **upcoming.params})
    state = texts.get(f"speedsparren.state.{speedspar.status.value}")
    return texts.rich(
        "speedsparren.status",
        id=speedspar.id,
        state=state,
        round=speedspar.current_round,
        rounds=speedspar.rounds,
        count=len(speedspar_repo(ctx).participants(speedspar)),
        at=_at(ctx, speedspar),
    )


def create_session(
    ctx: HandlerContext,
    channel: Channel,
    request: Request,
    creator: Member | None,
    *,
    schedule: Schedule | None = None,
    fire_key: str | None = None,
) -> SpeedsparSession:
    """Also for schedules and tests. The seed makes the pairing reproducible per session."""
    return speedspar_repo(ctx).add(
        SpeedsparSession(
            channel_id=channel.id,
            status=SpeedsparStatus.OPEN,
            starts_at=request.starts_at,
            rounds=request.rounds,
            minutes=request.minutes,
            deck=request.deck,
            seed=random.SystemRandom().randrange(2**31 - 1),
            facilitator_fills=request.facilitator_fills,
            created_by_id=creator.id if creator else None,
            current_round=0,
            schedule_id=schedule.id if schedule else None,
            fire_key=fire_key,
            # A scheduled session has no command to answer: the scheduler posts it.
            post_pending="announcement" if schedule else None,
            created_at=ctx.now(),
        )
    )


def announcement(ctx: HandlerContext, speedspar: SpeedsparSession) -> Card:
    texts = ctx.texts
    at = _at(ctx, speedspar)
    text = texts.rich(
        "speedsparren.announcement", at=at, rounds=speedspar.rounds, minutes=speedspar.minutes
    )
    return Card(
        (
            Section(text),
            Actions(
                (Button(ACTION_JOIN, texts.get("speedsparren.join"), str(speedspar.id), "primary"),)
            ),
        ),
        fallback=texts.rich("speedsparren.announcement_fallback", at=at),
    )


def announcement_posted(ctx: HandlerContext, session_id: int, ref: MessageRef) -> list[Reply]:
    speedspar = speedspar_repo(ctx).get(session_id)
    if speedspar is not None:
        speedspar.message_id = ref.message_id
    return []


def announcement_failed(ctx: HandlerContext, session_id: int, reason: str) -> list[Reply]:
    speedspar = speedspar_repo(ctx).get(session_id)
    if speedspar is not None and speedspar.status == SpeedsparStatus.OPEN:
        speedspar.status = SpeedsparStatus.CANCELLED
        speedspar.cancel_reason = "not_posted"
    return [Ephemeral(ctx.texts.rich("general.not_in_channel"))]


def cancel(ctx: HandlerContext, channel: Channel) -> list[Reply]:
    speedspar = speedspar_repo(ctx).active_in_channel(channel.id)
    if speedspar is None:
        return [Ephemeral(ctx.texts.rich("speedsparren.none_active"))]
    speedspar.status = SpeedsparStatus.CANCELLED
    speedspar.cancel_reason = "facilitator"
    speedspar.post_pending = "cancelled"
    people = [p.user_id for p in speedspar_repo(ctx).participants(speedspar)]
    _expire_pending(ctx, speedspar)
    speedspar_repo(ctx).add_messages(speedspar, "cancelled", 0, people)
    return [Ephemeral(ctx.texts.rich("speedsparren.cancelled_ok", id=speedspar.id))]


# --- on a schedule ------------------------------------------------------------------------------


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


class PlanError(ValueError):
    """Bad input for a speedspar schedule: a friendly message per form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _decks(texts: Texts) -> list[str]:
    return [k for k in texts.decks if k != "casus-vervolg"]


def check_schedule(texts: Texts, spec: NewSchedule, creator: Member | None) -> dict[str, str]:
    """Errors per form field (``wanneer``, ``rondes``, ``minuten``, ``aanmelden``, ``vragen``,
    ``begeleider``); empty when the schedule may be stored."""
    errors: dict[str, str] = {}
    try:
        parse_rule(spec.rule)
    except RuleError as exc:
        errors["wanneer"] = texts.rich("reflectie.bad_rule", problem=str(exc)).plain()
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
        rounds=schedule.rounds or DEFAULT_ROUNDS,
        minutes=schedule.minutes or DEFAULT_MINUTES,
        signup=schedule.signup_minutes or DEFAULT_SIGNUP,
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
    if not _facilitator(ctx, ctx.member(event.actor)):
        return [Ephemeral(ctx.texts.rich("speedsparren.only_facilitators"))]
    return [OpenForm(schedule_form(ctx.texts))]


def _whole(text: str) -> int:
    """A typed whole number; -1 (out of every range) for anything else."""
    number = parse_number(text, 0, 9999)
    return -1 if number is None else number


def submit_schedule(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    member = ctx.member(event.actor)
    if not _facilitator(ctx, member):
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
                at=clock_time(schedule.next_fire_at, schedule.timezone, ctx.now()),
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
    return DirectMessage(channel.platform, person.platform_user_id, _notice(text))


# --- buttons and the takeaway form ----------------------------------------------------------------


def _session_from(value: object, ctx: HandlerContext) -> SpeedsparSession | None:
    session_id = parse_id(value)
    return None if session_id is None else speedspar_repo(ctx).get(session_id)


def join(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    speedspar = _session_from(event.value, ctx)
    if speedspar is None:
        return [Ephemeral(texts.rich("speedsparren.not_found"))]
    if speedspar.status != SpeedsparStatus.OPEN or speedspar.starts_at <= ctx.now():
        return [Ephemeral(texts.rich("speedsparren.signup_closed"))]
    member = ctx.member(event.actor)
    key = (
        "speedsparren.joined"
        if speedspar_repo(ctx).join(speedspar, member)
        else "speedsparren.already_joined"
    )
    return [Ephemeral(texts.rich(key, at=_at(ctx, speedspar)))]


def stop(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    """Leave halfway: dropped from later rounds; the partner is re-paired or told."""
    texts = ctx.texts
    speedspar = _session_from(event.value, ctx)
    if speedspar is None:
        return [Ephemeral(texts.rich("speedsparren.not_found"))]
    member = ctx.member(event.actor)
    participant = speedspar_repo(ctx).participant(speedspar, member)
    if participant is None or not participant.active:
        return [Ephemeral(texts.rich("speedsparren.not_participating"))]
    participant.active = False
    participant.left_at = ctx.now()
    replies: list[Reply] = [Ephemeral(texts.rich("speedsparren.stopped"))]
    if speedspar.status == SpeedsparStatus.RUNNING:
        replies += _repair(ctx, speedspar, member)
    return replies


def _repair(ctx: HandlerContext, speedspar: SpeedsparSession, gone: Member) -> list[Reply]:
    texts = ctx.texts
    platform = speedspar.channel.platform
    seats = speedspar_repo(ctx).seats(speedspar, speedspar.current_round)
    active = {p.member_id: p.user_id for p in speedspar_repo(ctx).participants(speedspar)}
    group_of = {s.member_id: s.group_no for s in seats}
    if gone.id not in group_of:
        return []
    groups: dict[int, list[SpeedsparSeat]] = {}
    for seat in seats:
        if seat.member_id in active:
            groups.setdefault(seat.group_no, []).append(seat)
    left = groups.get(group_of[gone.id], [])
    gone_mention = Mention(gone.platform_user_id)
    if len(left) >= 2:
        text = texts.rich("speedsparren.partner_left_trio", gone=gone_mention)
        return [DirectMessage(platform, active[s.member_id], _notice(text)) for s in left]
    if not left:
        return []
    alone = left[0]
    # Someone else whose partner left earlier in this round: they talk with each other.
    other = next(
        (g[0] for no, g in sorted(groups.items()) if no != alone.group_no and len(g) == 1),
        None,
    )
    if other is None:
        text = texts.rich("speedsparren.partner_left_alone", gone=gone_mention)
        return [DirectMessage(platform, active[alone.member_id], _notice(text))]
    alone.group_no = other.group_no
    replies: list[Reply] = []
    for me, them in ((alone, other), (other, alone)):
        text = texts.rich(
            "speedsparren.partner_left_paired",
            gone=gone_mention,
            other=Mention(active[them.member_id]),
        )
        replies.append(DirectMessage(platform, active[me.member_id], _notice(text)))
    return replies


def _notice(text: Rich) -> Card:
    return Card((Section(text),), fallback=text)


def takeaway_form(texts: Texts, session_id: int, names: bool = False) -> Form:
    """``names``: the guard also finds names and places, so the form asks what to do with
    them (handlers/privacy_flow.py)."""
    return Form(
        form_id=FORM_TAKEAWAY,
        title=texts.get("speedsparren.takeaway.title"),
        submit_label=texts.get("speedsparren.takeaway.submit"),
        cancel_label=texts.get("speedsparren.takeaway.cancel"),
        fields=(
            TextInput(
                "meenemen",
                texts.get("speedsparren.takeaway.label"),
                required=True,
                max_length=TAKEAWAY_MAX,
                placeholder=texts.get("speedsparren.takeaway.placeholder"),
            ),
            *((privacy_choice_field(texts),) if names else ()),
        ),
        metadata={"session_id": session_id},
    )


def open_takeaway(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    speedspar = _session_from(event.value, ctx)
    if speedspar is None:
        return [Ephemeral(ctx.texts.rich("speedsparren.not_found"))]
    return [OpenForm(takeaway_form(ctx.texts, speedspar.id, names=finds_names(ctx.guard)))]


def submit_takeaway(event: FormSubmitted, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts
    raw = event.metadata.get("session_id")
    speedspar = _session_from(raw, ctx)
    if speedspar is None:
        return [Ephemeral(texts.rich("speedsparren.not_found"))]
    checked = check_submission(
        {"meenemen": clean_text(event.text("meenemen"))},
        [FieldRule("meenemen", True, TAKEAWAY_MAX)],
        texts,
        ctx.guard,
        event.text(PRIVACY_FIELD) or CHECK,
    )
    if checked.errors:
        return [FormErrors(checked.errors)]
    member = ctx.member(event.actor)
    speedspar_repo(ctx).save_takeaway(speedspar, member, checked.values["meenemen"])
    if speedspar.status == SpeedsparStatus.CLOSING:
        active = {p.member_id for p in speedspar_repo(ctx).participants(speedspar)}
        seated = {s.member_id for s in speedspar_repo(ctx).seats(speedspar)} & active
        shared = {t.member_id for t in speedspar_repo(ctx).takeaways(speedspar)}
        if seated <= shared and speedspar.closing_until is not None:
            speedspar.closing_until = min(speedspar.closing_until, ctx.now())  # all in: close now
    return [Ephemeral(texts.rich("speedsparren.takeaway_saved"))]


# --- engine steps (the scheduler calls these, one transaction each) -----------------------------


@dataclass(frozen=True)
class Plan:
    """What the scheduler needs about an unfinished session (no ORM objects cross threads)."""

    session_id: int
    next_boundary: datetime | None  # when advance() has work next; None: only sending left
    work_now: bool


def plans(ctx: HandlerContext) -> list[Plan]:
    now = ctx.now()
    out = []
    for speedspar in speedspar_repo(ctx).unfinished():
        boundary = _boundary(speedspar)
        pending = bool(speedspar_repo(ctx).unsent(speedspar))
        due = boundary is not None and boundary <= now
        out.append(Plan(speedspar.id, boundary, due or pending or bool(speedspar.post_pending)))
    return out


def _boundary(speedspar: SpeedsparSession) -> datetime | None:
    if speedspar.status == SpeedsparStatus.OPEN:
        return speedspar.starts_at
    if speedspar.status == SpeedsparStatus.RUNNING:
        return speedspar.round_ends_at
    if speedspar.status == SpeedsparStatus.CLOSING:
        return speedspar.closing_until
    return None


def advance(ctx: HandlerContext, session_id: int) -> bool:
    """Move a session past its boundary if that has come; True when something changed."""
    speedspar = speedspar_repo(ctx).get(session_id, lock=True)
    now = ctx.now()
    boundary = None if speedspar is None else _boundary(speedspar)
    if speedspar is None or boundary is None or boundary > now:
        return False
    if speedspar.status == SpeedsparStatus.OPEN:
        _start(ctx, speedspar, now)
    elif speedspar.status == SpeedsparStatus.RUNNING:
        _expire_pending(ctx, speedspar)
        if speedspar.current_round >= speedspar.rounds:
            _close_rounds(ctx, speedspar, boundary)
        elif now - boundary >= timedelta(minutes=speedspar.minutes):
            # Down for longer than a whole round: the group has moved on. End cleanly.
            log.warning(
                "speedspar %s: missed round %s; closing", speedspar.id, speedspar.current_round + 1
            )
            _close_rounds(ctx, speedspar, now)
        else:
            # The next round keeps its planned times, so a late restart shortens it a little
            # instead of shifting the whole session.
            _start_round(ctx, speedspar, speedspar.current_round + 1, boundary)
    elif speedspar.status == SpeedsparStatus.CLOSING:
        speedspar.status = SpeedsparStatus.CLOSED
        speedspar.post_pending = "summary"
    return True


def _start(ctx: HandlerContext, speedspar: SpeedsparSession, now: datetime) -> None:
    people = _present(ctx, speedspar)
    if speedspar.facilitator_fills and len(people) % 2 == 1 and speedspar.created_by_id:
        creator = ctx.repos.members.get(speedspar.created_by_id)
        if creator is not None and speedspar_repo(ctx).join(speedspar, creator):
            people = _present(ctx, speedspar)
    late = now - speedspar.starts_at >= timedelta(minutes=speedspar.minutes)
    if len(people) < 2 or late:
        # Down for longer than a round at the start time: the moment has passed.
        speedspar.status = SpeedsparStatus.CANCELLED
        speedspar.cancel_reason = "missed" if late else "too_few"
        speedspar.post_pending = "cancelled"
        speedspar_repo(ctx).add_messages(
            speedspar, "cancelled", 0, [m.platform_user_id for m in people]
        )
        return
    speedspar.status = SpeedsparStatus.RUNNING
    _start_round(
        ctx,
        speedspar,
        1,
        speedspar.starts_at if now - speedspar.starts_at < timedelta(minutes=1) else now,
    )


def _present(ctx: HandlerContext, speedspar: SpeedsparSession) -> list[Member]:
    """Active participants; someone who snoozed Leerkring is dropped from the session."""
    today = ctx.now().astimezone(ZoneInfo(ctx.zone)).date()
    present = []
    for participant in speedspar_repo(ctx).participants(speedspar):
        member = participant.member
        if member.snoozed_until is not None and member.snoozed_until >= today:
            participant.active = False
            participant.left_at = ctx.now()
            continue
        present.append(member)
    return present


def _start_round(
    ctx: HandlerContext, speedspar: SpeedsparSession, number: int, start: datetime
) -> None:
    people = _present(ctx, speedspar)
    if len(people) < 2:
        _close_rounds(ctx, speedspar, start)
        return
    persons = [Person(str(m.id), m.organisation.name if m.organisation else None) for m in people]
    state = _state(ctx, speedspar)
    plan = pair_round(persons, state, speedspar.seed * 100 + number, speedspar.rounds - number)
    orgs = {p.id: p.org_key for p in persons}
    for group_no, group in enumerate(plan.groups):
        cross = len({orgs[p] for p in group}) == len(group)
        for position, person in enumerate(group):
            repeat = any(state.met[pair(person, other)] for other in group if other != person)
            speedspar_repo(ctx).seat(
                {
                    "session_id": speedspar.id,
                    "round": number,
                    "member_id": int(person),
                    "group_no": group_no,
                    "position": position,
                    "cross_org": cross,
                    "repeat": repeat,
                }
            )
    speedspar.current_round = number
    speedspar.round_ends_at = start + timedelta(minutes=speedspar.minutes)
    speedspar_repo(ctx).add_messages(
        speedspar, "round", number, [m.platform_user_id for m in people]
    )
    log.info(
        "speedspar %s round %s: %s people, %s groups, %s cross-organisation, %s repeats",
        speedspar.id, number, len(people), len(plan.groups), plan.cross_org_groups, plan.repeats,
    )  # fmt: skip


def _state(ctx: HandlerContext, speedspar: SpeedsparSession) -> SessionState:
    """Earlier rounds of this session, and the pairs of the recent sessions (history)."""
    repo = speedspar_repo(ctx)
    state = SessionState()
    state.record(_groups(repo.seats(speedspar)))
    recent = repo.recent_session_ids(speedspar, HISTORY_SESSIONS)
    for group in _groups(repo.seats_of_sessions(recent)):
        for a, b in combinations(group, 2):
            state.history[pair(a, b)] += 1
    return state


def _groups(seats: list[SpeedsparSeat]) -> list[tuple[str, ...]]:
    grouped: dict[tuple[int, int, int], list[SpeedsparSeat]] = {}
    for seat in seats:
        grouped.setdefault((seat.session_id, seat.round, seat.group_no), []).append(seat)
    return [
        tuple(str(s.member_id) for s in sorted(group, key=lambda s: s.position))
        for _, group in sorted(grouped.items())
    ]


def _close_rounds(ctx: HandlerContext, speedspar: SpeedsparSession, at: datetime) -> None:
    speedspar.status = SpeedsparStatus.CLOSING
    speedspar.round_ends_at = None
    speedspar.closing_until = at + timedelta(minutes=max(5, speedspar.minutes))
    seated = {s.member_id for s in speedspar_repo(ctx).seats(speedspar)}
    people = [
        p.user_id for p in speedspar_repo(ctx).participants(speedspar) if p.member_id in seated
    ]
    speedspar_repo(ctx).add_messages(speedspar, "closing", 0, people)


def _expire_pending(ctx: HandlerContext, speedspar: SpeedsparSession) -> None:
    """A round's DMs that could not go out in time are stale once the round is over."""
    for message in speedspar_repo(ctx).unsent(speedspar):
        if message.kind == "round":
            message.status = "expired"


@dataclass(frozen=True)
class Outgoing:
    message_id: int
    platform: str
    user_id: str
    card: Card
    status: str = "pending"  # "sending": a process died while sending it; look first

    @property
    def key(self) -> str:
        return f"leerkring:speedspar:{self.message_id}"


def pending_messages(ctx: HandlerContext, session_id: int) -> list[Outgoing]:
    speedspar = speedspar_repo(ctx).get(session_id)
    if speedspar is None:
        return []
    pending = speedspar_repo(ctx).unsent(speedspar)
    if not pending:
        return []
    platform = speedspar.channel.platform
    seats = speedspar_repo(ctx).seats(speedspar)
    members = {
        p.member_id: p.user_id
        for p in speedspar_repo(ctx).participants(speedspar, active_only=False)
    }
    by_user = {uid: mid for mid, uid in members.items()}
    out = []
    for message in pending:
        card = _card(
            ctx, speedspar, message.kind, message.round, message.user_id, seats, members, by_user
        )
        if card is None:
            message.status = "expired"
            continue
        out.append(Outgoing(message.id, platform, message.user_id, card, message.status))
    return out


def _card(
    ctx: HandlerContext,
    speedspar: SpeedsparSession,
    kind: str,
    number: int,
    user_id: str,
    seats: list[SpeedsparSeat],
    members: dict[int, str],
    by_user: dict[str, int],
) -> Card | None:
    texts = ctx.texts
    if kind == "cancelled":
        return _notice(_cancel_text(ctx, speedspar))
    if kind == "closing":
        text = texts.rich("speedsparren.closing")
        return Card(
            (
                Section(text),
                Actions(
                    (
                        Button(
                            ACTION_TAKEAWAY,
                            texts.get("speedsparren.share"),
                            str(speedspar.id),
                            "primary",
                        ),
                    )
                ),
            ),
            fallback=texts.rich("speedsparren.closing_fallback"),
        )
    me = by_user.get(user_id)
    mine = next((s for s in seats if s.round == number and s.member_id == me), None)
    if mine is None:
        return None
    group = sorted(
        (s for s in seats if s.round == number and s.group_no == mine.group_no),
        key=lambda s: s.position,
    )
    mentions = [Mention(members[s.member_id]) for s in group]
    blocks: list[Block] = []
    if number > 1:
        blocks.append(Section(texts.rich("speedsparren.switch")))
    blocks.append(
        Header(
            texts.rich("speedsparren.round_header", round=number, rounds=speedspar.rounds).plain()
        )
    )
    partners = [m for m in mentions if m.user_id != user_id]
    if len(group) == 2:
        body = texts.rich(
            "speedsparren.pair",
            partner=partners[0],
            first=mentions[0],
            second=mentions[1],
            share=max(1, speedspar.minutes // 2),
        )
    else:
        body = texts.rich(
            "speedsparren.trio",
            first=mentions[0],
            second=mentions[1],
            third=mentions[2],
            share=max(1, speedspar.minutes // 3),
        )
    blocks.append(Section(body))
    if mine.repeat:
        blocks.append(Context(texts.rich("speedsparren.repeat")))
    deck = texts.decks.get(speedspar.deck) or texts.decks[DEFAULT_DECK]
    questions = "\n".join(f"• {q.label}" for q in deck.questions)
    blocks.append(
        Section(texts.rich("speedsparren.questions", deck=deck.name, questions=questions))
    )
    assert speedspar.round_ends_at is not None or speedspar.status != SpeedsparStatus.RUNNING
    until = speedspar.round_ends_at or ctx.now()
    blocks.append(Context(texts.rich("speedsparren.ends", until=clock_time(until, ctx.zone))))
    blocks.append(
        Actions((Button(ACTION_STOP, texts.get("speedsparren.stop"), str(speedspar.id), "danger"),))
    )
    fallback = texts.rich("speedsparren.round_fallback", round=number, partner=partners[0])
    return Card(tuple(blocks), fallback=fallback)


@dataclass(frozen=True)
class ChannelPost:
    session_id: int
    place: Place
    card: Card
    kind: str  # what post_pending said: "summary" or a cancellation
    since: datetime


def pending_post(ctx: HandlerContext, session_id: int) -> ChannelPost | None:
    speedspar = speedspar_repo(ctx).get(session_id)
    if speedspar is None or speedspar.post_pending is None:
        return None
    texts = ctx.texts
    if speedspar.post_pending == "announcement":
        card = announcement(ctx, speedspar)
    elif speedspar.post_pending == "summary":
        stats = summary(ctx, speedspar)
        text = texts.rich("speedsparren.summary", **stats)
        fallback = texts.rich("speedsparren.summary_fallback", participants=stats["participants"])
        card = Card((Section(text),), fallback=fallback)
    else:
        card = _notice(_cancel_text(ctx, speedspar))
    kind = str(speedspar.post_pending)
    return ChannelPost(speedspar.id, _place(speedspar.channel), card, kind, speedspar.created_at)


def _cancel_text(ctx: HandlerContext, speedspar: SpeedsparSession) -> Rich:
    at = _at(ctx, speedspar)
    if speedspar.cancel_reason == "too_few":
        count = len(speedspar_repo(ctx).participants(speedspar))
        return ctx.texts.rich("speedsparren.too_few", at=at, count=count)
    if speedspar.cancel_reason == "missed":
        return ctx.texts.rich("speedsparren.missed", at=at)
    return ctx.texts.rich("speedsparren.cancelled", at=at)


def summary(ctx: HandlerContext, speedspar: SpeedsparSession) -> dict[str, int]:
    seats = speedspar_repo(ctx).seats(speedspar)
    groups = {(s.round, s.group_no): s.cross_org for s in seats}
    cross = sum(groups.values())
    return {
        "participants": len({s.member_id for s in seats}),
        "rounds": len({s.round for s in seats}),
        "groups": len(groups),
        "cross": cross,
        "share": round(100 * cross / len(groups)) if groups else 0,
        "shared": len(speedspar_repo(ctx).takeaways(speedspar)),
    }


def mark_posted(ctx: HandlerContext, session_id: int, message_id: str | None = None) -> None:
    speedspar = speedspar_repo(ctx).get(session_id)
    if speedspar is None:
        return
    if speedspar.post_pending == "announcement":
        speedspar.message_id = message_id
    speedspar.post_pending = None


def post_failed(ctx: HandlerContext, session_id: int, reason: str) -> None:
    """The channel refuses the post for good. An announcement nobody saw: no session."""
    speedspar = speedspar_repo(ctx).get(session_id)
    if speedspar is None:
        return
    if speedspar.post_pending == "announcement" and speedspar.status == SpeedsparStatus.OPEN:
        log.error("speedspar %s: announcement not posted (%s); cancelled", session_id, reason)
        speedspar.status = SpeedsparStatus.CANCELLED
        speedspar.cancel_reason = "not_posted"
    speedspar.post_pending = None


def register(router: Router) -> None:
    router.command(COMMAND, speedsparren_command)
    router.action(ACTION_JOIN, join)
    router.action(ACTION_STOP, stop)
    router.action(ACTION_TAKEAWAY, open_takeaway)
    router.action(ACTION_PLAN, start_plan)
    router.form(FORM_TAKEAWAY, submit_takeaway)
    router.form(FORM_SCHEDULE, submit_schedule)
    router.on_posted(RECORD_KIND, announcement_posted, announcement_failed)
    router.harvest_section(SpeedsparSource())
