"""Speedsparren in the chat: everyone active at once, in pairs, a few short rounds with new
partners. ``/speedsparren`` (start, cancel, plan or show the state), the "Doe mee" and "Ik
stop" buttons and the takeaway form. The session's life is in rounds.py, the planning in
planning.py, what they share in common.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import ButtonPressed, CommandInvoked, FormSubmitted
from handlers.core.forms import FieldRule, clean_text
from handlers.core.replies import (
    DirectMessage,
    Ephemeral,
    Form,
    FormErrors,
    Mention,
    OpenForm,
    PostMessage,
    Record,
    Reply,
    Rich,
    TextInput,
)
from handlers.core.router import MessageRef, Router
from handlers.core.schedules import describe_rule
from handlers.ids import parse_id, parse_number
from handlers.privacy.flow import (
    CHECK,
    PRIVACY_FIELD,
    check_submission,
    finds_names,
    privacy_choice_field,
)
from handlers.speedsparren.common import (
    ACTION_JOIN,
    ACTION_STOP,
    ACTION_TAKEAWAY,
    COMMAND,
    FORM_TAKEAWAY,
    MINUTES,
    RECORD_KIND,
    ROUNDS,
    SCHEDULE_KIND,
    SIGNUP_NOW,
    TAKEAWAY_MAX,
    announcement,
    clock_time,
    is_facilitator,
    notice_card,
    place_of,
    starts_at_text,
)
from handlers.speedsparren.planning import schedule_form
from handlers.speedsparren.queries import speedspar_repo
from handlers.speedsparren.rounds import Request, cancel, create_session
from prompts import Texts
from storage.models import (
    Channel,
    Member,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparStatus,
)

_CANCEL = {"annuleer", "annuleren", "cancel", "stop", "stoppen"}
_NOW = {"nu", "now"}
_ROUND_WORDS = {"rondes", "ronde", "rounds", "round"}
_MINUTE_WORDS = {"minuten", "minuut", "minutes", "minute", "min"}
_DECK_WORDS = {"vragen", "questions", "deck"}
_FILL_WORDS = {"begeleider", "facilitator"}
_PLAN_WORDS = {"plan", "plannen", "schedule"}
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")


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
    facilitator = is_facilitator(ctx, member)
    words = event.text.split()
    if words and not facilitator:
        return [Ephemeral(texts.rich("speedsparren.only_facilitators"))]
    if not facilitator:
        # Anyone may see what is on; looking changes nothing (not even a channel row).
        seen = ctx.repos.channels.find(event.place.platform, event.place.channel_id)
        if seen is None:
            return [Ephemeral(texts.rich("speedsparren.none_active"))]
        return [Ephemeral(_status(ctx, seen, facilitator=False))]
    channel = ctx.repos.channels.ensure(
        event.place.platform, event.place.channel_id, event.place.team_id, event.place.name
    )
    if not words:
        return [Ephemeral(_status(ctx, channel, facilitator=facilitator))]
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
                at=starts_at_text(ctx, speedspar),
                rounds=texts.count("ronde", speedspar.rounds),
                minutes=texts.count("minuut", speedspar.minutes),
            )
        ),
        PostMessage(
            place_of(channel),
            announcement(ctx, speedspar),
            record_as=Record(RECORD_KIND, speedspar.id),
        ),
    ]


def _status(ctx: HandlerContext, channel: Channel, *, facilitator: bool) -> Rich:
    """What the session in this channel is doing, or what is planned; for a facilitator also
    how to start or cancel one."""
    texts = ctx.texts
    speedspar = speedspar_repo(ctx).active_in_channel(channel.id)
    if speedspar is None:
        usage = texts.rich("speedsparren.usage" if facilitator else "speedsparren.none_active")
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
            at=clock_time(texts, at, first.timezone, ctx.now()),
        )
        return Rich(f"{usage.template}\n{upcoming.template}", {**usage.params, **upcoming.params})
    state = texts.get(f"speedsparren.state.{speedspar.status.value}")
    return texts.rich(
        "speedsparren.status" if facilitator else "speedsparren.status_member",
        id=speedspar.id,
        state=state,
        round=speedspar.current_round,
        rounds=speedspar.rounds,
        participants=texts.count("deelnemer", len(speedspar_repo(ctx).participants(speedspar))),
        at=starts_at_text(ctx, speedspar),
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
    return [Ephemeral(texts.rich(key, at=starts_at_text(ctx, speedspar)))]


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
        return [DirectMessage(platform, active[s.member_id], notice_card(text)) for s in left]
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
        return [DirectMessage(platform, active[alone.member_id], notice_card(text))]
    alone.group_no = other.group_no
    replies: list[Reply] = []
    for me, them in ((alone, other), (other, alone)):
        text = texts.rich(
            "speedsparren.partner_left_paired",
            gone=gone_mention,
            other=Mention(active[them.member_id]),
        )
        replies.append(DirectMessage(platform, active[me.member_id], notice_card(text)))
    return replies


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


def register(router: Router) -> None:
    router.command(COMMAND, speedsparren_command)
    router.action(ACTION_JOIN, join)
    router.action(ACTION_STOP, stop)
    router.action(ACTION_TAKEAWAY, open_takeaway)
    router.form(FORM_TAKEAWAY, submit_takeaway)
    router.on_posted(RECORD_KIND, announcement_posted, announcement_failed)
