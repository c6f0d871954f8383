"""Proactive delivery, neutral across platforms: post to a channel, or DM a person.

The scheduler (reflection prompts) and speedsparren call this without knowing the platform.
Each adapter provides a ``Messenger``; ``Messengers`` picks one by platform name.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from handlers.core.events import MessageRef, Place
from handlers.core.replies import Card

log = logging.getLogger(__name__)


def outbox_key(kind: str, object_id: int) -> str:
    """The tag on a message whose row must be found again if recording it failed."""
    return f"leerkring:{kind}:{object_id}"


class DeliveryFailed(Exception):
    """The platform refused or could not be reached. ``reason`` is the platform's code
    (``not_in_channel``, ``channel_not_found``, ``unreachable``, ``unknown_conversation``)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# Errors that will not get better by trying again: the recipient is marked failed.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "account_inactive",
        "unknown_conversation",
        "no_dm_channel",
    }
)
# Answers that prove nothing was posted: a row marked "sending" can go back to "pending", so
# the next try sends without first looking for an earlier copy.
NOT_SENT = frozenset({"ratelimited"})


class Messenger(Protocol):
    platform: str

    async def post(
        self,
        place: Place,
        content: Card,
        thread_id: str | None = None,
        key: str | None = None,
    ) -> MessageRef:
        """Post in a channel (or in a thread under ``thread_id``); ``key`` as for ``direct``."""
        ...

    async def direct(self, user_id: str, content: Card, key: str | None = None) -> MessageRef:
        """Send a direct (1:1) message to a person. ``key`` tags it so ``find_direct`` can
        recognise it later (an outbox row that was being sent when the process died)."""
        ...

    async def find_direct(self, user_id: str, key: str) -> MessageRef | None:
        """The direct message sent earlier with ``key``, or None when there is none or the
        platform cannot tell (then the caller sends again: at least once)."""
        ...

    async def channel_members(self, place: Place) -> list[str]:
        """The people (not bots) in a channel, by platform user id."""
        ...

    async def find_posted(
        self, place: Place, key: str, since: datetime, thread_id: str | None = None
    ) -> MessageRef | None:
        """The message posted in ``place`` (in the thread under ``thread_id``) with ``key``, not
        before ``since``, or None when
        there is none. Raises ``DeliveryFailed("unsupported")`` when the platform cannot
        tell, and then nothing may be concluded."""
        ...


async def find_earlier_post(
    messenger: Messenger, place: Place, key: str, since: datetime
) -> MessageRef | None:
    """A post with ``key`` from an earlier attempt whose answer never arrived, so it is not
    posted twice. None when there is none or when it cannot be told (then: post)."""
    try:
        return await messenger.find_posted(place, key, since)
    except DeliveryFailed as exc:
        if exc.reason != "unsupported":
            log.warning("cannot look for an earlier post in %s: %s", place.channel_id, exc.reason)
        return None


async def thread_link(messenger: Messenger, place: Place, message_id: str) -> str | None:
    """A link to a message (and its thread) for people to click, where the platform gives one
    (a messenger with ``thread_link``: Slack's permalink); None otherwise or when it fails."""
    link = getattr(messenger, "thread_link", None)
    if link is None:
        return None
    try:
        found = await link(place, message_id)
    except DeliveryFailed as exc:
        log.info("no link to %s in %s: %s", message_id, place.channel_id, exc.reason)
        return None
    return found if isinstance(found, str) and found else None


class Messengers:
    def __init__(self) -> None:
        self._by_platform: dict[str, Messenger] = {}
        # Platforms whose workspace revoked the app (bot/revocation.py): nothing is sent there.
        self.stopped: frozenset[str] = frozenset()

    def add(self, messenger: Messenger) -> None:
        self._by_platform[messenger.platform] = messenger

    def get(self, platform: str) -> Messenger:
        if platform in self.stopped:
            raise DeliveryFailed(f"platform_off:{platform}")
        try:
            return self._by_platform[platform]
        except KeyError:
            raise DeliveryFailed(f"platform_off:{platform}") from None

    def __contains__(self, platform: str) -> bool:
        return platform in self._by_platform
