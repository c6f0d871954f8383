"""The reflectieverslag's queries: the werksessies a person took part in and their role, the
reflection rows (also the outbox of the private question), their prompt answers and
speedspar takeaways, and how long they keep their own record.

This feature is a record *of* the other features' data, so it reads the werksessie, prompt
answer and takeaway tables (storage/models.py) directly, always for one person only; it never
imports those features."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from storage.claims import Outbox
from storage.models import (
    Answer,
    Casus,
    Channel,
    Member,
    PromptRun,
    ReflectieBewaring,
    SpeedsparSession,
    SpeedsparTakeaway,
    Werksessie,
    WerksessieParticipant,
    WerksessiePost,
    WerksessieReflectie,
    WerksessieStatus,
    utcnow,
    waiting,
)
from storage.repositories import insert_many_ignoring_conflict

ASK = Outbox("werksessie_reflectie", WerksessieReflectie, "id", "status", "claimed_at")

INBRENGER, DEELNEMER, BEGELEIDER = "inbrenger", "deelnemer", "procesbegeleider"
ROLES = (INBRENGER, DEELNEMER, BEGELEIDER)
CLOSED = (WerksessieStatus.FINISHED, WerksessieStatus.STOPPED)
DEFAULT_YEARS = 5  # the SKJ registration period
MIN_YEARS, MAX_YEARS = 5, 10


@dataclass(frozen=True)
class SessionFacts:
    """One closed werksessie as the record shows it to one person."""

    session_id: int
    started_at: datetime
    finished_at: datetime | None
    method: str
    mode: str
    role: str
    series: str  # the channel the session ran in: the group, the reflectieserie
    live_minutes: int | None
    others: dict[str | None, int]  # organisation name (None: unknown) -> people
    reflection: WerksessieReflectie | None


def role_of(werksessie: Werksessie, casus: Casus, member_id: int) -> str:
    if werksessie.begeleider_id == member_id:
        return BEGELEIDER
    if not casus.anonymous and casus.inbrenger_id == member_id:
        return INBRENGER
    return DEELNEMER


def people_of(session: Session, werksessie: Werksessie, casus: Casus) -> set[int]:
    """Everyone who took part: the sign-ups, the procesbegeleider and the inbrenger (unless
    the casus is anonymous: then nobody knows who brought it in)."""
    ids = set(
        session.scalars(
            select(WerksessieParticipant.member_id).where(
                WerksessieParticipant.session_id == werksessie.id
            )
        )
    )
    ids.add(werksessie.begeleider_id)
    if not casus.anonymous:
        ids.add(casus.inbrenger_id)
    return ids


def _first_phase_start(session: Session, session_id: int) -> datetime | None:
    return session.scalar(
        select(WerksessiePost.created_at).where(
            WerksessiePost.session_id == session_id,
            WerksessiePost.phase == 0,
            WerksessiePost.kind == "fase",
        )
    )


def _took_place() -> object:
    """A closed session that began (a stop before the first phase is no werksessie)."""
    return and_(
        Werksessie.status.in_(CLOSED),
        or_(Werksessie.phases_done > 0, Werksessie.phase >= 0),
    )


def _involving(member_id: int) -> object:
    return or_(
        Werksessie.begeleider_id == member_id,
        and_(Casus.inbrenger_id == member_id, Casus.anonymous.is_(False)),
        exists().where(
            WerksessieParticipant.session_id == Werksessie.id,
            WerksessieParticipant.member_id == member_id,
        ),
    )


def sessions_of(
    session: Session, member: Member, start: datetime | None, end: datetime | None
) -> list[SessionFacts]:
    """The closed werksessies the person took part in that began in [start, end)."""
    rows = session.execute(
        select(Werksessie, Casus, Channel)
        .join(Casus, Casus.id == Werksessie.casus_id)
        .join(Channel, Channel.id == Casus.channel_id)
        .where(_took_place(), _involving(member.id))  # type: ignore[arg-type]
        .order_by(Werksessie.created_at, Werksessie.id)
    ).all()
    out: list[SessionFacts] = []
    for werksessie, casus, channel in rows:
        began = _first_phase_start(session, werksessie.id) or werksessie.created_at
        if (start is not None and began < start) or (end is not None and began >= end):
            continue
        live = None
        if werksessie.mode == "live" and werksessie.finished_at is not None:
            live = max(0, round((werksessie.finished_at - began).total_seconds() / 60))
        others: Counter[str | None] = Counter()
        for other in people_of(session, werksessie, casus) - {member.id}:
            person = session.get(Member, other)
            if person is None or person.platform_user_id.startswith("~"):
                continue
            others[person.organisation.name if person.organisation else None] += 1
        reflection = session.scalar(
            select(WerksessieReflectie).where(
                WerksessieReflectie.session_id == werksessie.id,
                WerksessieReflectie.member_id == member.id,
            )
        )
        out.append(
            SessionFacts(
                session_id=werksessie.id,
                started_at=began,
                finished_at=werksessie.finished_at,
                method=werksessie.method,
                mode=werksessie.mode,
                role=role_of(werksessie, casus, member.id),
                series=channel.name or channel.platform_channel_id,
                live_minutes=live,
                others=dict(others),
                reflection=reflection,
            )
        )
    out.sort(key=lambda facts: (facts.started_at, facts.session_id))
    return out


@dataclass(frozen=True)
class AnswerFacts:
    at: datetime
    deck: str
    question_id: str
    text: str


def answers_of(
    session: Session, member: Member, start: datetime | None, end: datetime | None
) -> list[AnswerFacts]:
    """The person's answers to reflection prompts; not the follow-up of a casus (that one is
    about a client's situation, not about the person's own development)."""
    query = (
        select(Answer, PromptRun.kind)
        .join(PromptRun, PromptRun.id == Answer.run_id)
        .where(Answer.member_id == member.id, PromptRun.casus_id.is_(None))
        .order_by(Answer.created_at, Answer.id)
    )
    if start is not None:
        query = query.where(Answer.created_at >= start)
    if end is not None:
        query = query.where(Answer.created_at < end)
    return [
        AnswerFacts(answer.created_at, kind, answer.question_id, answer.text)
        for answer, kind in session.execute(query)
    ]


@dataclass(frozen=True)
class TakeawayFacts:
    at: datetime
    series: str
    text: str


def takeaways_of(
    session: Session, member: Member, start: datetime | None, end: datetime | None
) -> list[TakeawayFacts]:
    query = (
        select(SpeedsparTakeaway, Channel)
        .join(SpeedsparSession, SpeedsparSession.id == SpeedsparTakeaway.session_id)
        .join(Channel, Channel.id == SpeedsparSession.channel_id)
        .where(SpeedsparTakeaway.member_id == member.id)
        .order_by(SpeedsparTakeaway.created_at, SpeedsparTakeaway.id)
    )
    if start is not None:
        query = query.where(SpeedsparTakeaway.created_at >= start)
    if end is not None:
        query = query.where(SpeedsparTakeaway.created_at < end)
    return [
        TakeawayFacts(row.created_at, channel.name or channel.platform_channel_id, row.text)
        for row, channel in session.execute(query)
    ]


# --- asking -------------------------------------------------------------------------------


def closed_unasked(session: Session, since: datetime) -> list[tuple[Werksessie, Casus]]:
    """Sessions closed since ``since`` for which nobody was asked yet."""
    return [
        (werksessie, casus)
        for werksessie, casus in session.execute(
            select(Werksessie, Casus)
            .join(Casus, Casus.id == Werksessie.casus_id)
            .where(
                _took_place(),  # type: ignore[arg-type]
                Werksessie.finished_at >= since,
                ~exists().where(WerksessieReflectie.session_id == Werksessie.id),
            )
            .order_by(Werksessie.id)
            .limit(50)
        )
    ]


def add_asks(session: Session, werksessie: Werksessie, roles: Iterable[tuple[int, str]]) -> None:
    now = utcnow()
    rows: list[dict[str, object]] = [
        {
            "session_id": werksessie.id,
            "member_id": member_id,
            "role": role,
            "status": "pending",
            "created_at": now,
        }
        for member_id, role in roles
    ]
    if rows:
        insert_many_ignoring_conflict(session, WerksessieReflectie, rows)


def unsent_asks(session: Session) -> list[WerksessieReflectie]:
    return list(
        session.scalars(
            select(WerksessieReflectie)
            .where(waiting(WerksessieReflectie.status))
            .order_by(WerksessieReflectie.id)
            .limit(200)
        )
    )


def reflections_of(session: Session, member_id: int, limit: int) -> list[WerksessieReflectie]:
    """The person's latest reflection rows (one per session they were asked about)."""
    return list(
        session.scalars(
            select(WerksessieReflectie)
            .where(WerksessieReflectie.member_id == member_id)
            .order_by(WerksessieReflectie.id.desc())
            .limit(limit)
        )
    )


# --- keeping ------------------------------------------------------------------------------


def years_kept(session: Session, member_id: int) -> int:
    row = session.get(ReflectieBewaring, member_id)
    return row.years if row is not None else DEFAULT_YEARS


def keep_years(session: Session, member_id: int, years: int, now: datetime) -> None:
    row = session.get(ReflectieBewaring, member_id)
    if row is None:
        session.add(ReflectieBewaring(member_id=member_id, years=years, updated_at=now))
    else:
        row.years, row.updated_at = years, now
    session.flush()


def member_by_reference(session: Session, platform: str, reference: str) -> Member | None:
    """A person named in a command: a Slack mention (``<@U123|name>``), a platform id, or a
    display name (only when exactly one person has it)."""
    text = reference.strip()
    if text.startswith("<@") and text.endswith(">"):
        text = text[2:-1].split("|", 1)[0]
    text = text.lstrip("@")
    if not text or text.startswith("~"):
        return None
    found = session.scalar(
        select(Member).where(Member.platform == platform, Member.platform_user_id == text)
    )
    if found is not None:
        return found
    named = list(
        session.scalars(
            select(Member)
            .where(Member.platform == platform, Member.display_name.is_not(None))
            .limit(5000)
        )
    )
    matches = [m for m in named if (m.display_name or "").casefold() == text.casefold()]
    return matches[0] if len(matches) == 1 else None
