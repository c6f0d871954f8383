"""Who could think along on a casus, and the requests: stored once per casus and member, at
most one per member per week and three per casus, decided under a lock on the member and the
casus so two processes (or a button pressed twice) cannot both get through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers.privacy.anonymity import ANONYMOUS_USER_ID
from storage.claims import Outbox
from storage.models import Casus, MeedenkRequest, Member, MemberProfile, waiting

REQUEST_DM = Outbox("meedenk_request", MeedenkRequest, "id", "status", "claimed_at")

SUGGESTED = 3  # members suggested to an inbrenger
PER_CASUS = 3  # requests an inbrenger may send for one casus
PER_MEMBER = timedelta(days=7)  # one request per member in this long


@dataclass(frozen=True)
class Candidate:
    member_id: int
    user_id: str
    name: str | None
    organisation: str
    matches: tuple[str, ...]  # the perspectives sought that they know about, in casus order
    last_asked: datetime | None


def _today(now: datetime, zone: str) -> datetime:
    return now.astimezone(ZoneInfo(zone))


def is_away(member: Member, now: datetime, zone: str) -> bool:
    """Snoozed (their own pause, up to and including that date)."""
    snoozed = member.snoozed_until
    return snoozed is not None and snoozed >= _today(now, zone).date()


def last_asked(session: Session, member_ids: list[int]) -> dict[int, datetime]:
    if not member_ids:
        return {}
    rows = session.execute(
        select(MeedenkRequest.member_id, func.max(MeedenkRequest.created_at))
        .where(MeedenkRequest.member_id.in_(member_ids))
        .group_by(MeedenkRequest.member_id)
    )
    return {member_id: at for member_id, at in rows if at is not None}


def candidates(
    session: Session,
    casus: Casus,
    asker: Member | None,
    now: datetime,
    zone: str,
    limit: int = SUGGESTED,
    represented: frozenset[int] = frozenset(),
) -> list[Candidate]:
    """Members on the casus's platform whose expertise matches a perspective the casus seeks,
    of another organisation than the inbrenger's (``asker``; their own organisation is
    unknown: any organisation), who allow it, are not snoozed, were not asked this week and
    not yet for this casus. Best first: most perspectives matched, then asked longest ago
    (never first); one per organisation before a second of the same (``represented``: the
    organisations of those already asked for this casus)."""
    sought = [p for p in casus.perspectives or [] if isinstance(p, str)]
    if not sought:
        return []
    platform = casus.channel.platform
    query = (
        select(Member, MemberProfile.expertise)
        .join(MemberProfile, MemberProfile.member_id == Member.id)
        .where(
            Member.platform == platform,
            Member.platform_user_id != ANONYMOUS_USER_ID,
            Member.organisation_id.is_not(None),
            MemberProfile.open_to_requests.is_(True),
        )
        .order_by(Member.id)
    )
    if asker is not None:
        query = query.where(Member.id != asker.id)
        if asker.organisation_id is not None:
            query = query.where(Member.organisation_id != asker.organisation_id)
    asked_here = set(
        session.scalars(select(MeedenkRequest.member_id).where(MeedenkRequest.casus_id == casus.id))
    )
    found: list[tuple[Member, tuple[str, ...]]] = []
    for member, expertise in session.execute(query):
        known = set(expertise or [])
        matches = tuple(p for p in sought if p in known)
        if matches and member.id not in asked_here and not is_away(member, now, zone):
            found.append((member, matches))
    asked = last_asked(session, [m.id for m, _ in found])
    recent = now - PER_MEMBER
    ranked = sorted(
        ((m, matches) for m, matches in found if not (m.id in asked and asked[m.id] > recent)),
        key=lambda item: (
            -len(item[1]),
            asked.get(item[0].id) is not None,
            asked.get(item[0].id) or now,
            item[0].id,
        ),
    )
    chosen: list[tuple[Member, tuple[str, ...]]] = []
    seen: set[int | None] = set(represented)
    for item in ranked:  # spread over organisations first
        if item[0].organisation_id not in seen:
            chosen.append(item)
            seen.add(item[0].organisation_id)
    for item in ranked:
        if item not in chosen:
            chosen.append(item)
    return [
        Candidate(
            m.id,
            m.platform_user_id,
            m.display_name,
            m.organisation.name if m.organisation else "",
            matches,
            asked.get(m.id),
        )
        for m, matches in chosen[:limit]
    ]


def asked_for(session: Session, casus: Casus) -> list[Candidate]:
    """Who was asked to think along on this casus, in the order they were asked."""
    sought = [p for p in casus.perspectives or [] if isinstance(p, str)]
    out = []
    for request in session.scalars(
        select(MeedenkRequest)
        .where(MeedenkRequest.casus_id == casus.id)
        .order_by(MeedenkRequest.id)
    ):
        member = request.member
        profile = session.get(MemberProfile, member.id)
        known = set(profile.expertise or []) if profile else set()
        out.append(
            Candidate(
                member.id,
                member.platform_user_id,
                member.display_name,
                member.organisation.name if member.organisation else "",
                tuple(p for p in sought if p in known),
                request.created_at,
            )
        )
    return out


def eligible(
    session: Session, casus: Casus, asker: Member | None, member: Member, now: datetime, zone: str
) -> bool:
    """The same rules as ``candidates`` for one member (a button's value is checked again)."""
    if member.platform != casus.channel.platform or member.platform_user_id == ANONYMOUS_USER_ID:
        return False
    if asker is not None and (
        member.id == asker.id
        or (asker.organisation_id is not None and member.organisation_id == asker.organisation_id)
    ):
        return False
    profile = session.get(MemberProfile, member.id)
    if profile is None or not profile.open_to_requests or member.organisation_id is None:
        return False
    known = set(profile.expertise or [])
    if not any(p in known for p in casus.perspectives or []):
        return False
    return not is_away(member, now, zone)


def lock(session: Session, casus: Casus, member: Member) -> None:
    """Hold the casus and member rows until commit (PostgreSQL; SQLite has one writer), so the
    limits below are decided by one process at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Casus.id).where(Casus.id == casus.id).with_for_update())
        session.execute(select(Member.id).where(Member.id == member.id).with_for_update())


def existing(session: Session, casus_id: int, member_id: int) -> MeedenkRequest | None:
    return session.scalar(
        select(MeedenkRequest).where(
            MeedenkRequest.casus_id == casus_id, MeedenkRequest.member_id == member_id
        )
    )


def count_for_casus(session: Session, casus_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(MeedenkRequest)
            .where(MeedenkRequest.casus_id == casus_id)
        )
        or 0
    )


def asked_since(session: Session, member_id: int, since: datetime) -> bool:
    return (
        session.scalar(
            select(MeedenkRequest.id)
            .where(MeedenkRequest.member_id == member_id, MeedenkRequest.created_at > since)
            .limit(1)
        )
        is not None
    )


def add(
    session: Session, casus: Casus, member: Member, asker: Member | None, now: datetime
) -> MeedenkRequest | None:
    """The pending request, or None when one for this casus and member was stored meanwhile.
    ``asker`` is stored as who asked (for an anonymous casus: its placeholder member)."""
    request = MeedenkRequest(
        casus_id=casus.id,
        member_id=member.id,
        asked_by_id=asker.id if asker is not None else None,
        status="pending",
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        return None
    return request


def unsent(session: Session, limit: int = 200) -> list[MeedenkRequest]:
    return list(
        session.scalars(
            select(MeedenkRequest)
            .where(waiting(MeedenkRequest.status))
            .order_by(MeedenkRequest.id)
            .limit(limit)
        )
    )
