"""What the Teams adapter keeps in the database besides the handlers' own data: conversation
references (to message a conversation later, also after a restart), display names for
mentions, and delivery ids of submissions so a redelivered one counts once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from botbuilder.schema import ConversationReference as SdkReference
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from storage.models import ConversationReference, utcnow
from storage.repositories import EventLog, MemberRepository, insert_ignoring_conflict

log = logging.getLogger(__name__)

PLATFORM = "teams"


class ConversationReferenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(
        self,
        *,
        platform: str,
        conversation_id: str,
        kind: str,
        service_url: str,
        reference: dict[str, object],
        user_id: str | None = None,
        team_id: str | None = None,
        tenant_id: str | None = None,
    ) -> ConversationReference:
        """Insert or refresh (a serviceUrl can change; the latest one is the one to use)."""
        insert_ignoring_conflict(
            self.session,
            ConversationReference,
            {
                "platform": platform,
                "conversation_id": conversation_id,
                "kind": kind,
                "service_url": service_url,
                "reference": reference,
                "user_id": user_id,
                "team_id": team_id,
                "tenant_id": tenant_id,
                "updated_at": utcnow(),
            },
        )
        row = self.get(platform, conversation_id)
        assert row is not None
        row.kind = kind
        row.service_url = service_url
        row.reference = reference
        row.user_id = user_id or row.user_id
        row.team_id = team_id or row.team_id
        row.tenant_id = tenant_id or row.tenant_id
        row.updated_at = utcnow()
        self.session.flush()
        return row

    def get(self, platform: str, conversation_id: str) -> ConversationReference | None:
        return self.session.scalars(
            select(ConversationReference).where(
                ConversationReference.platform == platform,
                ConversationReference.conversation_id == conversation_id,
            )
        ).one_or_none()

    def personal(self, platform: str, user_id: str) -> ConversationReference | None:
        return self.session.scalars(
            select(ConversationReference)
            .where(
                ConversationReference.platform == platform,
                ConversationReference.user_id == user_id,
                ConversationReference.kind == "personal",
            )
            .order_by(ConversationReference.updated_at.desc())
            .limit(1)
        ).one_or_none()

    def any_for_tenant(self, platform: str, tenant_id: str | None) -> ConversationReference | None:
        """Any stored reference in this tenant: its serviceUrl can create a new 1:1 chat."""
        query = select(ConversationReference).where(ConversationReference.platform == platform)
        if tenant_id is not None:
            query = query.where(ConversationReference.tenant_id == tenant_id)
        return self.session.scalars(
            query.order_by(ConversationReference.updated_at.desc()).limit(1)
        ).one_or_none()


def base_conversation_id(conversation_id: str) -> str:
    """A channel post's conversation id ends in ``;messageid=<root>``; the channel is before it."""
    return conversation_id.split(";messageid=", 1)[0]


def thread_root(conversation_id: str) -> str | None:
    _, _, root = conversation_id.partition(";messageid=")
    return root or None


def conversation_kind(activity: Activity) -> str:
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None)
    if isinstance(kind, str) and kind:
        return kind
    # The Emulator sends no conversationType.
    return "groupChat" if getattr(conversation, "is_group", False) else "personal"


def user_id_of(account: Any) -> str | None:
    """People are known by their Entra object id; the Emulator only sends an id."""
    if account is None:
        return None
    value = getattr(account, "aad_object_id", None) or getattr(account, "id", None)
    return str(value) if value else None


def channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def tenant_of(activity: Activity) -> str | None:
    tenant = channel_data(activity).get("tenant")
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str):
        return str(tenant["id"])
    value = getattr(activity.conversation, "tenant_id", None)
    return str(value) if value else None


def team_of(activity: Activity) -> str | None:
    team = channel_data(activity).get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return str(team["id"])
    return None


@dataclass(frozen=True)
class StoredReference:
    conversation_id: str
    kind: str
    service_url: str
    tenant_id: str | None
    reference: dict[str, Any]

    def sdk_reference(self) -> SdkReference:
        return SdkReference.deserialize(self.reference)


class TeamsStore:
    """Runs its database work in a worker thread, on the runtime's current database."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # --- conversation references ---

    def remember_sync(self, activity: Activity) -> None:
        reference = TurnContext.get_conversation_reference(activity)
        conversation_id = base_conversation_id(str(activity.conversation.id))
        reference.conversation.id = conversation_id
        reference.activity_id = None
        kind = conversation_kind(activity)
        if kind != "personal":
            # Whoever spoke last is not needed to post in a channel or group chat: keep no name.
            reference.user = None
        with self.runtime.database.session() as session:
            ConversationReferenceRepository(session).save(
                platform=PLATFORM,
                conversation_id=conversation_id,
                kind=kind,
                service_url=str(activity.service_url),
                reference=reference.serialize(),
                user_id=user_id_of(activity.from_property) if kind == "personal" else None,
                team_id=team_of(activity),
                tenant_id=tenant_of(activity),
            )

    async def remember(self, activity: Activity) -> None:
        try:
            await asyncio.to_thread(self.remember_sync, activity)
        except Exception as exc:
            # Not fatal for this turn; the next activity in the conversation stores it again.
            log.warning("storing the Teams conversation reference failed: %r", exc)

    def save_sync(
        self,
        reference: SdkReference,
        kind: str,
        user_id: str | None,
        tenant_id: str | None,
    ) -> None:
        with self.runtime.database.session() as session:
            ConversationReferenceRepository(session).save(
                platform=PLATFORM,
                conversation_id=str(reference.conversation.id),
                kind=kind,
                service_url=str(reference.service_url),
                reference=reference.serialize(),
                user_id=user_id,
                tenant_id=tenant_id,
            )

    async def save(
        self,
        reference: SdkReference,
        kind: str,
        user_id: str | None,
        tenant_id: str | None,
    ) -> None:
        await asyncio.to_thread(self.save_sync, reference, kind, user_id, tenant_id)

    def _load(self, query: str, key: str | None) -> StoredReference | None:
        with self.runtime.database.session() as session:
            repository = ConversationReferenceRepository(session)
            if query == "conversation":
                row = repository.get(PLATFORM, key or "")
            elif query == "personal":
                row = repository.personal(PLATFORM, key or "")
            else:
                row = repository.any_for_tenant(PLATFORM, key)
            if row is None:
                return None
            return StoredReference(
                row.conversation_id, row.kind, row.service_url, row.tenant_id, dict(row.reference)
            )

    async def conversation(self, conversation_id: str) -> StoredReference | None:
        return await asyncio.to_thread(self._load, "conversation", conversation_id)

    async def personal(self, user_id: str) -> StoredReference | None:
        return await asyncio.to_thread(self._load, "personal", user_id)

    async def any(self, tenant_id: str | None = None) -> StoredReference | None:
        return await asyncio.to_thread(self._load, "any", tenant_id)

    def _anchor(self) -> StoredReference | None:
        with self.runtime.database.session() as session:
            row = session.scalars(
                select(ConversationReference)
                .where(ConversationReference.platform == PLATFORM)
                # A team channel can look up its members; a 1:1 chat only its one person.
                .order_by(
                    (ConversationReference.kind == "personal").asc(),
                    ConversationReference.updated_at.desc(),
                )
                .limit(1)
            ).one_or_none()
            if row is None:
                return None
            return StoredReference(
                row.conversation_id, row.kind, row.service_url, row.tenant_id, dict(row.reference)
            )

    async def anchor(self) -> StoredReference | None:
        """A conversation to start a new 1:1 chat from: its serviceUrl, tenant and bot."""
        return await asyncio.to_thread(self._anchor)

    # --- names and deliveries ---

    def _names(self, user_ids: Iterable[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        with self.runtime.database.session() as session:
            members = MemberRepository(session)
            for user_id in user_ids:
                member = members.find(PLATFORM, user_id)
                if member is not None and member.display_name:
                    names[user_id] = member.display_name
        return names

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        try:
            return await asyncio.to_thread(self._names, wanted)
        except Exception as exc:
            log.warning("looking up names for mentions failed: %r", exc)
            return {}

    def _claim(self, delivery_id: str) -> bool:
        with self.runtime.database.session() as session:
            return EventLog(session).claim(PLATFORM, delivery_id)

    async def claim(self, delivery_id: str) -> bool:
        """False when this delivery was handled before. A database failure lets it through:
        the handler then reports the outage to the person."""
        try:
            return await asyncio.to_thread(self._claim, delivery_id)
        except Exception as exc:
            log.warning("recording Teams delivery failed: %r", exc)
            return True
