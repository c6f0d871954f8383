"""The rights of the person (AVG art. 15 and 17): everything stored about one member, and its
erasure. Queries only; the caller owns the session and the transaction.

What a feature stores about a person is that feature's business: each registers a part
(handlers/core/personal.py) with its export, erasure and retention, and this module walks them.
It adds what belongs to no feature: the member row, the platform conversations (Teams 1:1
references, the stored DM channel) and the schedules a person created.

Export contains the person's own data and nothing of others: for a bijdrage the casus id, not
the casus; for a speedspar seat the round and group, not the partner. Erasure removes the
person; their casussen (and werksessies they guided) stay, anonymised, so that what others
wrote keeps its context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handlers.core.personal import Person, PersonalRegistry, when
from storage.models import ConversationReference, DirectChannel, Member, Schedule
from storage.statements import affected

EXPORT_FORMAT = "leerkring-export-1"


def _member(session: Session, platform: str, user_id: str) -> Member | None:
    return session.scalar(
        select(Member).where(Member.platform == platform, Member.platform_user_id == user_id)
    )


def _conversations(session: Session, platform: str, user_id: str) -> list[dict[str, Any]]:
    return [
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


def export_member(
    session: Session,
    parts: PersonalRegistry,
    platform: str,
    user_id: str,
    anonymous_hashes: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data. ``anonymous_hashes``: the keyed
    hashes that mark their anonymous casussen (handlers/privacy/anonymity.py)."""
    member = _member(session, platform, user_id)
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "platform": platform,
        "user_id": user_id,
        "member": None,
    }
    if member is not None:
        data["member"] = {
            "display_name": member.display_name,
            "organisation": member.organisation.name if member.organisation else None,
            "role": member.role,
            "facilitator": member.is_facilitator,
            "snoozed_until": when(member.snoozed_until),
            "created_at": when(member.created_at),
        }
    parts.export(session, Person(platform, user_id, member, tuple(anonymous_hashes)), into=data)
    data["conversations"] = _conversations(session, platform, user_id)
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
    parts: PersonalRegistry,
    platform: str,
    user_id: str,
    anonymous_member: Member,
    anonymous_hashes: Sequence[str] = (),
) -> Erasure:
    member = _member(session, platform, user_id)
    person = Person(platform, user_id, member, tuple(anonymous_hashes), anonymous_member)
    counts = parts.erase(session, person)
    counts["other"] += affected(
        session,
        delete(ConversationReference).where(
            ConversationReference.platform == platform, ConversationReference.user_id == user_id
        ),
    )
    counts["other"] += affected(
        session,
        delete(DirectChannel).where(
            DirectChannel.platform == platform, DirectChannel.user_id == user_id
        ),
    )
    if member is not None:
        session.execute(
            update(Schedule).where(Schedule.created_by_id == member.id).values(created_by_id=None)
        )
        session.flush()
        session.delete(member)
    session.flush()
    return Erasure(
        counts["casussen"],
        counts["bijdragen"],
        counts["answers"],
        counts["takeaways"],
        found=member is not None or any(counts.values()),
    )
