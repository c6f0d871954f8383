"""Slack's side of ``handlers.core.messaging.Messenger``: Web API calls with our rendering."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from handlers.core.events import MessageRef, Place
from handlers.core.messaging import DeliveryFailed
from handlers.core.replies import Card, UploadFile
from prompts import Texts
from storage.db import Database
from storage.direct_channels import DirectChannelRepository

log = logging.getLogger(__name__)
T = TypeVar("T")
PLATFORM = "slack"
# Message metadata on a DM from an outbox row, so a restart can find it before resending.
# Slack does not deduplicate chat.postMessage; reading it back needs the im:history scope.
METADATA_EVENT = "leerkring_outbox"
# How many recent messages of a DM to look through for the key.
HISTORY_LIMIT = 50
# Stored DM channels are read again on a miss, at most this often (seconds).
RELOAD_AFTER = 30.0


class DirectChannelStore:
    """The DM channel ids kept in the database, for the event loop (worker threads). A database
    that cannot be reached costs a conversations.open, not the DM: failures are logged only."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._unsaved: dict[str, str] = {}
        self._writer: asyncio.Future[None] | None = None

    async def all(self) -> dict[str, str] | None:
        return await self._run(lambda repo: repo.all(PLATFORM))

    async def save(self, user_id: str, channel_id: str) -> None:
        """Stored together with whatever other senders opened meanwhile (one transaction per
        batch): a cold fan-out opens a channel per person, and one write each would hold up
        the senders on SQLite's single writer."""
        self._unsaved[user_id] = channel_id
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_unsaved())
        await asyncio.shield(self._writer)

    async def _write_unsaved(self) -> None:
        while self._unsaved:
            batch, self._unsaved = self._unsaved, {}

            def step(repo: DirectChannelRepository, batch: dict[str, str] = batch) -> None:
                for user_id, channel_id in batch.items():
                    repo.save(PLATFORM, user_id, channel_id)

            await self._run(step)

    async def forget(self, user_id: str, channel_id: str) -> None:
        await self._run(lambda repo: repo.forget(PLATFORM, user_id, channel_id))

    async def _run(self, step: Callable[[DirectChannelRepository], T]) -> T | None:
        def work() -> T:
            with self.database.session() as session:
                return step(DirectChannelRepository(session))

        try:
            return await asyncio.to_thread(work)
        except Exception as exc:
            log.warning("stored DM channels unavailable: %s", type(exc).__name__)
            return None


class SlackMessenger:
    platform = PLATFORM

    def __init__(
        self, client: AsyncWebClient, texts: Texts, channels: DirectChannelStore | None = None
    ) -> None:
        self.client = client
        self.texts = texts
        self._bot_user_id: str | None = None
        # DM channel per user: conversations.open is Tier 3 (about 50 a minute) and the id is
        # stable, so it is kept here and in the database (``channels``), loaded at first use.
        self._dm_channels: dict[str, str] = {}
        self._channels = channels
        self._loaded_at: float | None = None
        self._loading = asyncio.Lock()

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

    async def thread_link(self, place: Place, message_id: str) -> str | None:
        """The permalink of a message (handlers/core/messaging.py: thread_link)."""
        try:
            answer = await self.client.chat_getPermalink(
                channel=place.channel_id, message_ts=message_id
            )
        except Exception as exc:
            log.info("chat.getPermalink failed: %s", type(exc).__name__)
            return None
        link = answer.get("permalink")
        return str(link) if link else None

    async def direct(self, user_id: str, content: Card, key: str | None = None) -> MessageRef:
        return await self._to_direct(
            user_id, lambda channel: self.post(Place(PLATFORM, channel), content, key=key)
        )

    async def upload(self, file: UploadFile) -> None:
        """files_upload_v2 (getUploadURLExternal, the upload, completeUploadExternal) to the
        file's conversation, or for one person to their DM channel (the stored one, as for
        ``direct``). Raises DeliveryFailed; the content is never logged."""
        if file.place is not None:
            await self._upload(file.place.channel_id, file)
        else:
            assert file.user_id is not None  # UploadFile has exactly one of place and user_id
            await self._to_direct(file.user_id, lambda channel: self._upload(channel, file))

    async def _upload(self, channel: str, file: UploadFile) -> None:
        try:
            await self.client.files_upload_v2(
                channel=channel,
                filename=file.filename,
                content=file.content,
                title=file.title,
                initial_comment=render.mrkdwn(file.comment) if file.comment else None,
            )
        except SlackApiError as exc:
            raise DeliveryFailed(_error_code(exc)) from None
        except Exception as exc:  # the upload URL unreachable, a timeout
            log.warning("file upload to %s failed: %r", channel, exc)
            raise DeliveryFailed("unreachable") from None

    async def _to_direct(self, user_id: str, send: Callable[[str], Awaitable[T]]) -> T:
        """``send`` to the person's DM channel: the stored one, or one opened now (stored while
        ``send`` runs). Every DM and every file for one person goes through here, so a person's
        DM is opened once (conversations.open is Tier 3)."""
        channel, fresh = await self._dm_channel(user_id)
        if fresh:
            result, _ = await asyncio.gather(send(channel), self._save(user_id, channel))
            return result
        try:
            return await send(channel)
        except DeliveryFailed as exc:
            if exc.reason != "channel_not_found":
                raise
        # Slack no longer knows the stored id; channel_not_found means nothing was delivered.
        channel = await self._reopen(user_id, channel)
        return await send(channel)

    async def find_direct(self, user_id: str, key: str) -> MessageRef | None:
        channel, fresh = await self._dm_channel(user_id)
        if fresh:
            await self._save(user_id, channel)
        try:
            try:
                return await self._find(channel, key, HISTORY_LIMIT, None)
            except DeliveryFailed as exc:
                if fresh or exc.reason != "channel_not_found":
                    raise
            channel = await self._reopen(user_id, channel)
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

    async def _dm_channel(self, user_id: str) -> tuple[str, bool]:
        """The person's DM channel, and whether it was opened just now (not stored)."""
        channel = self._dm_channels.get(user_id)
        if channel is None and self._channels is not None:
            # Another process (`leerkring schedule run`, a replica) may have stored it since
            # the last look: read them all again, at most once per RELOAD_AFTER.
            async with self._loading:
                now = time.monotonic()
                if self._loaded_at is None or now - self._loaded_at > RELOAD_AFTER:
                    stored = await self._channels.all()
                    if stored is not None:
                        self._dm_channels.update(stored)
                        self._loaded_at = now
            channel = self._dm_channels.get(user_id)
        if channel is not None:
            return channel, False
        channel = await self._open_dm(user_id)
        self._dm_channels[user_id] = channel
        return channel, True

    async def _save(self, user_id: str, channel: str) -> None:
        if self._channels is not None:
            await self._channels.save(user_id, channel)

    async def _reopen(self, user_id: str, stale: str) -> str:
        log.info("stored DM channel of %s is gone; opening it again", user_id)
        if self._dm_channels.get(user_id) == stale:
            del self._dm_channels[user_id]
        if self._channels is not None:
            await self._channels.forget(user_id, stale)
        channel = await self._open_dm(user_id)
        self._dm_channels[user_id] = channel
        await self._save(user_id, channel)
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
