"""The rights of the person (AVG art. 15 and 17): everything stored about one member, and its
erasure. Queries only; the caller owns the session and the transaction.

Export contains the person's own data and nothing of others: for a bijdrage the casus id, not
the casus; for a speedspar seat the round and group, not the partner.

Erasure removes the person: profile, member row, bijdragen, reflection answers, speedspar
takeaways, seats and sign-ups, prompt deliveries, their 1:1 conversation references and their
stored DM channel. Their casussen stay, anonymised (moved to the platform's anonymous member,
no hash), so that the bijdragen of others keep their context. Who created a schedule or a
session is forgotten; a harvest they requested is logged as requested by "verwijderd".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Answer,
    Bijdrage,
    Casus,
    ConversationReference,
    DirectChannel,
    HarvestLog,
    Member,
    MemberProfile,
    PromptDelivery,
    Schedule,
    SpeedsparMessage,
    SpeedsparParticipant,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparTakeaway,
)
from storage.statements import affected

ERASED = "verwijderd"


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _own_casussen(session: Session, member: Member | None, hashes: list[str]) -> list[Casus]:
    conditions = []
    if member is not None:
        conditions.append(Casus.inbrenger_id == member.id)
    if hashes:
        conditions.append(Casus.inbrenger_hash.in_(hashes))
    if not conditions:
        return []
    from sqlalchemy import or_

    return list(session.scalars(select(Casus).where(or_(*conditions)).order_by(Casus.id)))


def export_member(
    session: Session, platform: str, user_id: str, anonymous_hashes: list[str] | None = None
) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data. ``anonymous_hashes``: the keyed
    hashes that mark their anonymous casussen (handlers/anonymous.py)."""
    member = session.scalar(
        select(Member).where(Member.platform == platform, Member.platform_user_id == user_id)
    )
    hashes = anonymous_hashes or []
    data: dict[str, Any] = {
        "format": "leerkring-export-1",
        "platform": platform,
        "user_id": user_id,
        "member": None,
        "casussen": [],
        "bijdragen": [],
        "reflection_answers": [],
        "speedsparren": {"sessions": [], "seats": [], "takeaways": []},
        "prompts_received": [],
        "conversations": [],
        "harvests_requested": [],
    }
    for casus in _own_casussen(session, member, hashes):
        data["casussen"].append(
            {
                "id": casus.id,
                "anonymous": casus.anonymous,
                "title": casus.title,
                "situation": casus.situation,
                "obstacle": casus.obstacle,
                "uncertainty": casus.uncertainty,
                "question": casus.question,
                "perspectives": list(casus.perspectives or []),
                "status": casus.status.value,
                "insight": casus.insight,
                "next_step": casus.next_step,
                "created_at": _when(casus.created_at),
                "closed_at": _when(casus.closed_at),
            }
        )
    data["prompts_received"] = [
        {"run_id": d.run_id, "status": d.status, "sent_at": _when(d.sent_at)}
        for d in session.scalars(select(PromptDelivery).where(PromptDelivery.user_id == user_id))
    ]
    data["conversations"] = [
        {"kind": c.kind, "conversation_id": c.conversation_id}
        for c in session.scalars(
            select(ConversationReference).where(
                ConversationReference.platform == platform, ConversationReference.user_id == user_id
            )
        )
    ] + [
        {"kind": "direct", "conversation_id": d.channel_id}
        for d in session.scalars(
            select(DirectChannel).where(
                DirectChannel.platform == platform, DirectChannel.user_id == user_id
            )
        )
    ]
    data["harvests_requested"] = [
        {"at": _when(h.created_at), "period_start": _when(h.period_start), "output": h.output}
        for h in session.scalars(
            select(HarvestLog).where(HarvestLog.requested_by == f"{platform}:{user_id}")
        )
    ]
    if member is None:
        return data
    profile = session.get(MemberProfile, member.id)
    data["member"] = {
        "display_name": member.display_name,
        "organisation": member.organisation.name if member.organisation else None,
        "role": member.role,
        "facilitator": member.is_facilitator,
        "snoozed_until": _when(member.snoozed_until),
        "created_at": _when(member.created_at),
        "expertise": list(profile.expertise or []) if profile else [],
        "welcomed_at": _when(profile.welcomed_at) if profile else None,
    }
    data["bijdragen"] = [
        {"casus_id": b.casus_id, "text": b.text, "created_at": _when(b.created_at)}
        for b in session.scalars(
            select(Bijdrage).where(Bijdrage.author_id == member.id).order_by(Bijdrage.id)
        )
    ]
    data["reflection_answers"] = [
        {
            "run_id": a.run_id,
            "question_id": a.question_id,
            "text": a.text,
            "late": a.late,
            "created_at": _when(a.created_at),
        }
        for a in session.scalars(
            select(Answer).where(Answer.member_id == member.id).order_by(Answer.id)
        )
    ]
    speedspar = data["speedsparren"]
    speedspar["sessions"] = [
        {"session_id": p.session_id, "joined_at": _when(p.joined_at), "left_at": _when(p.left_at)}
        for p in session.scalars(
            select(SpeedsparParticipant).where(SpeedsparParticipant.member_id == member.id)
        )
    ]
    speedspar["seats"] = [
        {"session_id": s.session_id, "round": s.round, "group": s.group_no}
        for s in session.scalars(select(SpeedsparSeat).where(SpeedsparSeat.member_id == member.id))
    ]
    speedspar["takeaways"] = [
        {"session_id": t.session_id, "text": t.text, "created_at": _when(t.created_at)}
        for t in session.scalars(
            select(SpeedsparTakeaway).where(SpeedsparTakeaway.member_id == member.id)
        )
    ]
    return data


@dataclass(frozen=True)
class Erasure:
    casussen_anonymised: int
    bijdragen: int
    answers: int
    takeaways: int
    found: bool  # False when nothing at all was stored about the person


def erase_member(
    session: Session,
    platform: str,
    user_id: str,
    anonymous_member: Member,
    anonymous_hashes: list[str] | None = None,
) -> Erasure:
    member = session.scalar(
        select(Member).where(Member.platform == platform, Member.platform_user_id == user_id)
    )
    hashes = anonymous_hashes or []
    casussen = _own_casussen(session, member, hashes)
    for casus in casussen:
        casus.inbrenger_id = anonymous_member.id
        casus.anonymous = True
        casus.inbrenger_hash = None
    other = 0
    other += affected(session, delete(PromptDelivery).where(PromptDelivery.user_id == user_id))
    other += affected(session, delete(SpeedsparMessage).where(SpeedsparMessage.user_id == user_id))
    other += affected(
        session,
        delete(ConversationReference).where(
            ConversationReference.platform == platform, ConversationReference.user_id == user_id
        ),
    )
    other += affected(
        session,
        delete(DirectChannel).where(
            DirectChannel.platform == platform, DirectChannel.user_id == user_id
        ),
    )
    other += affected(
        session,
        update(HarvestLog)
        .where(HarvestLog.requested_by == f"{platform}:{user_id}")
        .values(requested_by=ERASED),
    )
    if member is None:
        session.flush()
        return Erasure(len(casussen), 0, 0, 0, found=bool(casussen or other))
    bijdragen = affected(session, delete(Bijdrage).where(Bijdrage.author_id == member.id))
    answers = affected(session, delete(Answer).where(Answer.member_id == member.id))
    takeaways = affected(
        session, delete(SpeedsparTakeaway).where(SpeedsparTakeaway.member_id == member.id)
    )
    session.execute(delete(SpeedsparSeat).where(SpeedsparSeat.member_id == member.id))
    session.execute(delete(SpeedsparParticipant).where(SpeedsparParticipant.member_id == member.id))
    session.execute(
        update(Schedule).where(Schedule.created_by_id == member.id).values(created_by_id=None)
    )
    session.execute(
        update(SpeedsparSession)
        .where(SpeedsparSession.created_by_id == member.id)
        .values(created_by_id=None)
    )
    session.execute(delete(MemberProfile).where(MemberProfile.member_id == member.id))
    session.flush()
    session.delete(member)
    session.flush()
    return Erasure(len(casussen), bijdragen, answers, takeaways, found=True)
