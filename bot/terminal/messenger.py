"""The terminal's side of ``handlers.core.messaging.Messenger``: what the scheduler sends is
printed in the chat, so reflection prompts can be tried without a workspace."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from handlers.core.events import MessageRef, Place
from handlers.core.messaging import DeliveryFailed
from handlers.core.replies import Card
from storage.models import Member

if TYPE_CHECKING:
    from bot.terminal.chat import TerminalChat

PLATFORM = "terminal"


class TerminalMessenger:
    platform = PLATFORM

    def __init__(self, chat: TerminalChat) -> None:
        self.chat = chat

    async def post(
        self,
        place: Place,
        content: Card,
        thread_id: str | None = None,
        key: str | None = None,
    ) -> MessageRef:
        text = self.chat.card_text(content)
        if thread_id:
            text = "\n".join("  ↳ " + line for line in text.splitlines())
        self.chat.say(text)
        return MessageRef(PLATFORM, place.channel_id, f"t{time.time_ns()}")

    async def find_posted(
        self, place: Place, key: str, since: datetime, thread_id: str | None = None
    ) -> MessageRef | None:
        raise DeliveryFailed("unsupported")

    async def find_direct(self, user_id: str, key: str) -> MessageRef | None:
        return None  # the terminal is one process: nothing survives it to be found

    async def direct(self, user_id: str, content: Card, key: str | None = None) -> MessageRef:
        self.chat.say(self.chat.direct_line(user_id))
        self.chat.say(self.chat.card_text(content))
        return MessageRef(PLATFORM, f"dm-{user_id}", f"t{time.time_ns()}")

    async def channel_members(self, place: Place) -> list[str]:
        """Everyone who has used this terminal chat (``/als`` switches person)."""
        with self.chat.runtime.database.session() as session:
            return list(
                session.scalars(
                    select(Member.platform_user_id)
                    .where(Member.platform == PLATFORM)
                    .order_by(Member.id)
                )
            )
