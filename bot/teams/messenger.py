"""Teams' side of ``handlers.core.messaging.Messenger``: proactive messages from stored conversation
references, through ``continue_conversation`` with the bot's own app id."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from bot.runtime import Runtime
from bot.settings import Settings
from bot.teams import render
from bot.teams.connection import CHANNEL_ID, TeamsConnection, connector, delivery_failed
from bot.teams.store import PLATFORM, StoredReference, TeamsStore
from handlers.core.events import MessageRef, Place
from handlers.core.messaging import DeliveryFailed
from handlers.core.replies import Card
from prompts import Texts

log = logging.getLogger(__name__)


def card_activity(rendered: render.RenderedCard) -> Activity:
    # No ``text``: Teams would show it above the card. The summary is what notifications show.
    return Activity(
        type=ActivityTypes.message,
        summary=rendered.summary,
        attachments=[Attachment(content_type=render.CONTENT_TYPE, content=rendered.card)],
    )


def make_teams_messenger(settings: Settings, runtime: Runtime, texts: Texts) -> TeamsMessenger:
    return TeamsMessenger(TeamsConnection(settings), TeamsStore(runtime), texts)


class TeamsMessenger:
    platform = PLATFORM

    def __init__(self, connection: TeamsConnection, store: TeamsStore, texts: Texts) -> None:
        self.connection = connection
        self.store = store
        self.texts = texts
        # Teams accounts (29:…) by object id, from member lists: saves a look-up per new chat.
        self._accounts: dict[str, ChannelAccount] = {}

    @property
    def someone(self) -> str:
        return self.texts.get("teams.someone")

    async def render(self, content: Card) -> render.RenderedCard:
        ids = render.mention_ids([*content.blocks, content.fallback])
        return render.render_card(content, await self.store.names(ids), self.someone)

    # --- Messenger ---

    async def post(
        self,
        place: Place,
        content: Card,
        thread_id: str | None = None,
        key: str | None = None,
    ) -> MessageRef:
        stored = await self._reference(place.channel_id)
        rendered = await self.render(content)
        target = place.channel_id
        # Only channels have threads; in a chat a reply is simply the next message.
        if thread_id and stored.kind == "channel":
            target = f"{place.channel_id};messageid={thread_id}"
        message_id = await self.send(stored, target, card_activity(rendered))
        return MessageRef(PLATFORM, place.channel_id, message_id)

    async def direct(self, user_id: str, content: Card, key: str | None = None) -> MessageRef:
        return await self.send_direct(user_id, card_activity(await self.render(content)))

    async def find_posted(
        self, place: Place, key: str, since: datetime, thread_id: str | None = None
    ) -> MessageRef | None:
        raise DeliveryFailed("unsupported")  # no way to list a channel's messages

    async def find_direct(self, user_id: str, key: str) -> MessageRef | None:
        # The Bot Framework connector cannot list a conversation's messages: a DM interrupted
        # between sending and recording is sent again (at least once).
        return None

    async def channel_members(self, place: Place) -> list[str]:
        stored = await self._reference(place.channel_id)
        found: list[Any] = []

        async def logic(turn_context: TurnContext) -> None:
            members = await connector(turn_context).conversations.get_conversation_members(
                place.channel_id
            )
            found.extend(members or [])

        await self._continue(stored, logic, "member list", place.channel_id)
        bot_id = (stored.reference.get("bot") or {}).get("id")
        people = [m for m in found if m.id and m.id != bot_id and not str(m.id).startswith("28:")]
        for member in people:
            if member.aad_object_id:
                self._accounts[str(member.aad_object_id)] = ChannelAccount(
                    id=member.id, name=member.name, aad_object_id=member.aad_object_id
                )
        return [str(m.aad_object_id or m.id) for m in people]

    # --- beyond the protocol: what the adapter needs ---

    def know(self, account: ChannelAccount) -> None:
        """Remember a person's Teams account (``29:…``) seen in an activity, so a new 1:1 chat
        with them needs no member look-up (which can fail, e.g. right after they joined)."""
        if account.id and account.aad_object_id and str(account.id).startswith("29:"):
            self._accounts[str(account.aad_object_id)] = ChannelAccount(
                id=account.id, name=account.name, aad_object_id=account.aad_object_id
            )

    async def update(self, place: Place, message_id: str, content: Card) -> None:
        stored = await self._reference(place.channel_id)
        activity = card_activity(await self.render(content))
        await self.replace(stored, place.channel_id, message_id, activity)

    async def send_direct(self, user_id: str, activity: Activity) -> MessageRef:
        """To the person's 1:1 chat with the bot, created when there is none yet."""
        stored = await self.store.personal(user_id)
        if stored is not None:
            message_id = await self.send(stored, stored.conversation_id, activity)
            return MessageRef(PLATFORM, stored.conversation_id, message_id)
        return await self._create_personal(user_id, activity)

    async def send(self, stored: StoredReference, conversation_id: str, activity: Activity) -> str:
        sent: list[str] = []

        async def logic(turn_context: TurnContext) -> None:
            _address(activity, stored, conversation_id)
            response = await connector(turn_context).conversations.send_to_conversation(
                conversation_id, activity
            )
            sent.append(str(getattr(response, "id", "") or ""))

        await self._continue(stored, logic, "post", conversation_id)
        if not sent or not sent[0]:
            raise DeliveryFailed("no_message_id")
        return sent[0]

    async def replace(
        self, stored: StoredReference, conversation_id: str, message_id: str, activity: Activity
    ) -> None:
        async def logic(turn_context: TurnContext) -> None:
            _address(activity, stored, conversation_id)
            activity.id = message_id
            await connector(turn_context).conversations.update_activity(
                conversation_id, message_id, activity
            )

        await self._continue(stored, logic, "update", conversation_id)

    # --- internals ---

    async def _reference(self, conversation_id: str) -> StoredReference:
        stored = await self.store.conversation(conversation_id)
        if stored is None:
            log.warning(
                "Teams: no conversation reference stored for %s; the bot has never been "
                "added there (or has not seen it since), so it cannot post there",
                conversation_id,
            )
            raise DeliveryFailed("unknown_conversation")
        return stored

    async def _continue(self, stored: StoredReference, logic: Any, what: str, target: str) -> None:
        try:
            await self.connection.continue_conversation(stored.sdk_reference(), logic)
        except DeliveryFailed:
            raise
        except Exception as exc:
            raise delivery_failed(exc, what, target) from None

    async def _create_personal(self, user_id: str, activity: Activity) -> MessageRef:
        """No 1:1 chat stored yet: create one through the connector, then remember it."""
        anchor = await self.store.anchor()
        if anchor is None:
            log.warning("Teams: cannot reach %s directly; no conversation is known yet", user_id)
            raise DeliveryFailed("unknown_conversation")
        reference = anchor.sdk_reference()
        member = await self._member(anchor, user_id)
        tenant = anchor.tenant_id
        parameters = ConversationParameters(
            is_group=False,
            bot=reference.bot,
            members=[member],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created: list[str] = []

        async def logic(turn_context: TurnContext) -> None:
            conversation_id = str(turn_context.activity.conversation.id)
            personal = ConversationReference(
                bot=reference.bot,
                user=ChannelAccount(id=member.id, aad_object_id=user_id, name=member.name),
                conversation=ConversationAccount(
                    id=conversation_id, conversation_type="personal", tenant_id=tenant
                ),
                channel_id=CHANNEL_ID,
                service_url=anchor.service_url,
            )
            await self.store.save(personal, "personal", user_id, tenant)
            activity.conversation = personal.conversation
            activity.from_property = reference.bot
            activity.recipient = personal.user
            response = await connector(turn_context).conversations.send_to_conversation(
                conversation_id, activity
            )
            created.extend([conversation_id, str(getattr(response, "id", "") or "")])

        try:
            await self.connection.create_conversation(anchor.service_url, parameters, logic)
        except Exception as exc:
            raise delivery_failed(exc, "1:1 chat", user_id) from None
        if len(created) != 2 or not created[1]:
            raise DeliveryFailed("no_message_id")
        return MessageRef(PLATFORM, created[0], created[1])

    async def _member(self, anchor: StoredReference, user_id: str) -> ChannelAccount:
        """The person's Teams account (``29:…``); their Entra object id when the look-up fails."""
        if user_id in self._accounts:
            return self._accounts[user_id]
        found: list[ChannelAccount] = []
        if anchor.kind != "personal":

            async def logic(turn_context: TurnContext) -> None:
                member = await connector(turn_context).conversations.get_conversation_member(
                    anchor.conversation_id, user_id
                )
                if member is not None:
                    found.append(member)

            try:
                await self.connection.continue_conversation(anchor.sdk_reference(), logic)
            except Exception as exc:
                log.info(
                    "Teams member look-up failed (%s); using the object id", type(exc).__name__
                )
        if found and found[0].id:
            account = ChannelAccount(id=found[0].id, name=found[0].name, aad_object_id=user_id)
            self._accounts[user_id] = account
            return account
        return ChannelAccount(id=user_id, aad_object_id=user_id)


def _address(activity: Activity, stored: StoredReference, conversation_id: str) -> None:
    reference = stored.sdk_reference()
    activity.channel_id = reference.channel_id or CHANNEL_ID
    activity.service_url = stored.service_url
    activity.from_property = reference.bot
    activity.conversation = ConversationAccount(
        id=conversation_id,
        conversation_type=getattr(reference.conversation, "conversation_type", None),
        tenant_id=stored.tenant_id,
        is_group=getattr(reference.conversation, "is_group", None),
    )
