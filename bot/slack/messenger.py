"""Slack's side of ``bot.messaging.Messenger``: Web API calls with our rendering."""

from __future__ import annotations

import logging

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

    async def post(self, place: Place, content: Card, thread_id: str | None = None) -> MessageRef:
        rendered = render.render_card(
            content,
            read_more=self.texts.rich("casus.card.read_more"),
            continued=self.texts.rich("casus.card.continued"),
        )
        ts = await self._post_message(place.channel_id, rendered, thread_id)
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

    async def direct(self, user_id: str, content: Card) -> MessageRef:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            channel = await self._open_dm(user_id)
            self._dm_channels[user_id] = channel
        return await self.post(Place(PLATFORM, channel), content)

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
        self, channel: str, rendered: render.RenderedMessage, thread_id: str | None
    ) -> str:
        try:
            response = await self.client.chat_postMessage(
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
                thread_ts=thread_id,
                unfurl_links=False,
                unfurl_media=False,
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
