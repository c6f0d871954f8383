"""A speedspar session's life, run by the scheduler's steps (engine.py) and by the chat
handlers, one transaction each: create a session, advance it past a boundary (start, next round,
closing, closed), build the direct messages recorded as pending, mark them sent, and the
channel post (announcement of a scheduled session, summary or notice).

The session's state lives in the database. Every direct message is a row (unique per session,
kind, round and person) written before it is sent and marked after, so a restart resumes the
fan-out without sending twice; a round whose end passed while the bot was down is closed when
it comes back."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from handlers.core.context import HandlerContext
from handlers.core.events import Place
from handlers.core.replies import (
    Actions,
    Block,
    Button,
    Card,
    Context,
    Ephemeral,
    Header,
    Mention,
    Reply,
    Rich,
    Section,
)
from handlers.speedsparren.common import (
    ACTION_STOP,
    ACTION_TAKEAWAY,
    DEFAULT_DECK,
    DEFAULT_MINUTES,
    DEFAULT_ROUNDS,
    HISTORY_SESSIONS,
    announcement,
    clock_time,
    notice_card,
    place_of,
    starts_at_text,
)
from handlers.speedsparren.pairing import Person, SessionState, pair, pair_round
from handlers.speedsparren.queries import speedspar_repo
from storage.models import (
    Channel,
    Member,
    Schedule,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparStatus,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    starts_at: datetime
    rounds: int = DEFAULT_ROUNDS
    minutes: int = DEFAULT_MINUTES
    deck: str = DEFAULT_DECK
    facilitator_fills: bool = False


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


def cancel(ctx: HandlerContext, channel: Channel) -> list[Reply]:
    speedspar = speedspar_repo(ctx).active_in_channel(channel.id)
    if speedspar is None:
        return [Ephemeral(ctx.texts.rich("speedsparren.none_active"))]
    speedspar.status = SpeedsparStatus.CANCELLED
    speedspar.cancel_reason = "facilitator"
    speedspar.post_pending = "cancelled"
    people = [p.user_id for p in speedspar_repo(ctx).participants(speedspar)]
    expire_pending(ctx, speedspar)
    speedspar_repo(ctx).add_messages(speedspar, "cancelled", 0, people)
    return [Ephemeral(ctx.texts.rich("speedsparren.cancelled_ok", id=speedspar.id))]


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
        expire_pending(ctx, speedspar)
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


def expire_pending(ctx: HandlerContext, speedspar: SpeedsparSession) -> None:
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
        return notice_card(cancel_text(ctx, speedspar))
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
    blocks.append(
        Context(texts.rich("speedsparren.ends", until=clock_time(texts, until, ctx.zone)))
    )
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
        counted = {
            "participants": texts.count("deelnemer", stats["participants"]),
            "rounds": texts.count("ronde", stats["rounds"]),
            "groups": texts.count("gesprek", stats["groups"]),
            "shared": texts.count("deelde", stats["shared"]),
        }
        text = texts.rich(
            "speedsparren.summary", cross=stats["cross"], share=stats["share"], **counted
        )
        fallback = texts.rich("speedsparren.summary_fallback", participants=counted["participants"])
        card = Card((Section(text),), fallback=fallback)
    else:
        card = notice_card(cancel_text(ctx, speedspar))
    kind = str(speedspar.post_pending)
    return ChannelPost(speedspar.id, place_of(speedspar.channel), card, kind, speedspar.created_at)


def cancel_text(ctx: HandlerContext, speedspar: SpeedsparSession) -> Rich:
    at = starts_at_text(ctx, speedspar)
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
