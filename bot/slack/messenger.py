"""Slack's side of ``bot.messaging.Messenger``: Web API calls with our rendering."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messaging import DeliveryFailed
from bot.slack import render
from handlers.events import Place
from handlers.replies import Card
from handlers.router import MessageRef
from prompts import Texts

log = logging.getLogger(__name__)
PLATFORM = "slack"
# Message metadata on a DM from an outbox row, so a restart can find it before resending.
# Slack does not deduplicate chat.postMessage; reading it back needs the im:history scope.
METADATA_EVENT = "leerkring_outbox"
# How many recent messages of a DM to look through for the key.
HISTORY_LIMIT = 50


class SlackMessenger:
    platform = PLATFORM

    def __init__(self, client: AsyncWebClient, texts: Texts) -> None:
        self.client = client
        self.texts = texts
        self._bot_user_id: str | None = None
        # DM channel per user: conversations.open is rate-limited (Tier 3), the id is stable.
        self._dm_channels: dict[str, str] = {}

    async def bot_user_id(self) -> str | None:
        if self._bot_user_id is None:
            try:
                self._bot_user_id = str((await self.client.auth_test()).get("user_id") or "")
            except Exception as exc:
                log.warning("auth.test failed: %r", exc)
        return self._bot_user_id or None

    async def post(
        self,
        place: Place,
        content: Card,
        thread_id: str | None = None,
        key: str | None = None,
    ) -> MessageRef:
        rendered = render.render_card(
            content,
            read_more=self.texts.rich("casus.card.read_more"),
            continued=self.texts.rich("casus.card.continued"),
        )
        metadata: dict[str, object] | None = (
            {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        )
        ts = await self._post_message(place.channel_id, rendered, thread_id, metadata)
        thread = thread_id or ts
        for extra in rendered.overflow:
            for chunk in render.split_text(extra):
                try:
                    await self._post_message(
                        place.channel_id,
                        render.RenderedMessage(
                            chunk, [{"type": "section", "text": render.md(chunk)}]
                        ),
                        thread,
                    )
                except DeliveryFailed as exc:
                    log.warning("overflow post failed: %s", exc.reason)
        return MessageRef(PLATFORM, place.channel_id, ts)

    async def direct(self, user_id: str, content: Card, key: str | None = None) -> MessageRef:
        channel = await self._dm_channel(user_id)
        return await self.post(Place(PLATFORM, channel), content, key=key)

    async def find_direct(self, user_id: str, key: str) -> MessageRef | None:
        channel = await self._dm_channel(user_id)
        try:
            return await self._find(channel, key, HISTORY_LIMIT, None)
        except DeliveryFailed as exc:
            if exc.reason in ("missing_scope", "not_allowed_token_type"):
                log.warning("cannot read DM history (%s; add im:history): sending again", exc)
                return None
            raise

    async def find_posted(
        self, place: Place, key: str, since: datetime, thread_id: str | None = None
    ) -> MessageRef | None:
        # A minute of leeway for clocks; channels where Leerkring lives are not that busy.
        oldest = since - timedelta(minutes=1)
        return await self._find(place.channel_id, key, 200, f"{oldest.timestamp():.6f}", thread_id)

    async def _find(
        self, channel: str, key: str, limit: int, oldest: str | None, thread: str | None = None
    ) -> MessageRef | None:
        try:
            if thread is not None:  # a reply is not in the channel's history, only its thread's
                page = await self.client.conversations_replies(
                    channel=channel, ts=thread, limit=limit, oldest=oldest,
                    include_all_metadata=True,
                )  # fmt: skip
            else:
                page = await self.client.conversations_history(
                    channel=channel, limit=limit, oldest=oldest, include_all_metadata=True
                )
        except SlackApiError as exc:
            raise DeliveryFailed(_error_code(exc)) from None
        except Exception as exc:
            log.warning("conversations.history failed: %r", exc)
            raise DeliveryFailed("unreachable") from None
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return MessageRef(PLATFORM, channel, str(message.get("ts", "")))
        return None

    async def _dm_channel(self, user_id: str) -> str:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            channel = await self._open_dm(user_id)
            self._dm_channels[user_id] = channel
        return channel

    async def _open_dm(self, user_id: str) -> str:
        try:
            opened = await self.client.conversations_open(users=user_id)
        except SlackApiError as exc:
            raise DeliveryFailed(_error_code(exc)) from None
        except Exception as exc:
            log.warning("conversations.open failed: %r", exc)
            raise DeliveryFailed("unreachable") from None
        channel = str((opened.get("channel") or {}).get("id", ""))
        if not channel:
            raise DeliveryFailed("no_dm_channel")
        return channel

    async def channel_members(self, place: Place) -> list[str]:
        members: list[str] = []
        cursor: str | None = None
        try:
            while True:
                page = await self.client.conversations_members(
                    channel=place.channel_id, limit=200, cursor=cursor
                )
                members.extend(str(m) for m in page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:
            raise DeliveryFailed(_error_code(exc)) from None
        bot = await self.bot_user_id()
        return [m for m in members if m != bot]

    async def _post_message(
        self,
        channel: str,
        rendered: render.RenderedMessage,
        thread_id: str | None,
        metadata: dict[str, object] | None = None,
    ) -> str:
        try:
            response = await self.client.chat_postMessage(
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
                thread_ts=thread_id,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
            )
        except SlackApiError as exc:
            reason = _error_code(exc)
            log.warning("chat.postMessage to %s failed: %s", channel, reason)
            raise DeliveryFailed(reason) from None
        except Exception as exc:  # network failure, timeout
            log.warning("chat.postMessage to %s failed: %r", channel, exc)
            raise DeliveryFailed("unreachable") from None
        return str(response.get("ts", ""))


def _error_code(exc: SlackApiError) -> str:
    """Slack's error code, also when the response was not JSON (a proxy's 502, a 405)."""
    try:
        return str(exc.response.get("error", "unknown"))
    except Exception:
        return f"http_{getattr(exc.response, 'status_code', 'error')}"
