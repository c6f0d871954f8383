"""Runs handlers: one unit of work per event, in a worker thread, with deduplication.

Adapters call ``handle(event)`` and get an ``Outcome``; after they delivered a ``PostMessage``
with ``record_as`` they call ``posted`` or ``post_failed`` so the handler can finish or undo.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from handlers.context import HandlerContext, Repositories
from handlers.events import Event, MemberJoined, ThreadMessage
from handlers.privacy import PrivacyGuard
from handlers.replies import Ephemeral, Record, Reply
from handlers.router import MessageRef, Router
from prompts import Texts
from storage.db import Database, DatabaseUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    # "database" when the database was unreachable, "internal" for a bug; nothing was written.
    failure: str | None = None
    duplicate: bool = False


class Runtime:
    def __init__(
        self,
        database: Database,
        router: Router,
        texts: Texts,
        guard: PrivacyGuard,
        facilitators: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] | None = None,
        zone: str = "Europe/Amsterdam",
        hmac_secret: bytes | None = None,
    ) -> None:
        self.database = database
        self.router = router
        self.texts = texts
        self.guard = guard
        self.facilitators = facilitators
        self.clock = clock or (lambda: datetime.now(UTC))
        self.zone = zone
        self.hmac_secret = hmac_secret

    def _context(self, repos: Repositories) -> HandlerContext:
        return HandlerContext(
            repos=repos,
            texts=self.texts,
            guard=self.guard,
            facilitators=self.facilitators,
            now=self.clock,
            zone=self.zone,
            hmac_secret=self.hmac_secret,
        )

    def call_sync(self, step: Callable[..., T], *args: Any) -> T:
        """Run an engine step in one unit of work: ``step(ctx, *args)``."""
        with self.database.session() as session:
            return step(self._context(Repositories(session)), *args)

    async def call(self, step: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self.call_sync, step, *args)

    # --- synchronous core (worker thread) ---

    def handle_sync(self, event: Event) -> Outcome:
        try:
            with self.database.session() as session:
                repos = Repositories(session)
                delivery_id = _delivery_id(event)
                if delivery_id is not None and not repos.events.claim(
                    event.actor.platform, delivery_id
                ):
                    log.info("duplicate delivery %s ignored", delivery_id)
                    return Outcome(duplicate=True)
                replies = self.router.dispatch(event, self._context(repos))
            return Outcome(replies)
        except DatabaseUnavailable:
            return Outcome([Ephemeral(self.texts.rich("general.error_db"))], failure="database")
        except Exception:
            # The traceback names code, not what people typed: event fields are not logged.
            log.exception("handler failed for %s", type(event).__name__)
            return Outcome(
                [Ephemeral(self.texts.rich("general.error_generic"))], failure="internal"
            )

    def posted_sync(self, record: Record, ref: MessageRef) -> list[Reply]:
        try:
            with self.database.session() as session:
                repos = Repositories(session)
                repos.posted.record(
                    ref.platform, ref.channel_id, ref.message_id, record.kind, record.object_id
                )
                return self.router.posted(record.kind, self._context(repos), record.object_id, ref)
        except Exception:
            log.exception("recording posted %s %s failed", record.kind, record.object_id)
            return []

    def post_failed_sync(self, record: Record, reason: str) -> list[Reply]:
        log.warning("posting %s %s failed: %s", record.kind, record.object_id, reason)
        try:
            with self.database.session() as session:
                return self.router.post_failed(
                    record.kind, self._context(Repositories(session)), record.object_id, reason
                )
        except Exception:
            log.exception("undoing %s %s failed", record.kind, record.object_id)
            return [Ephemeral(self.texts.rich("general.error_generic"))]

    # --- async wrappers (event loop) ---

    async def handle(self, event: Event) -> Outcome:
        return await asyncio.to_thread(self.handle_sync, event)

    async def make_file(
        self,
        source: str,
        platform: str,
        user_id: str,
        args: Mapping[str, str] | None = None,
    ) -> bytes | None:
        """A registered file source's file for this person, made now from the database.
        Raises DatabaseUnavailable when the database cannot be reached, FileRefused when the
        source will not make it for this person."""

        def step(ctx: HandlerContext) -> bytes | None:
            return self.router.make_file(source, ctx, platform, user_id, args)

        return await self.call(step)

    async def file_delivered(
        self, source: str, platform: str, user_id: str, args: Mapping[str, str] | None = None
    ) -> None:
        """Tell the file source its file reached the person (in a unit of work of its own)."""

        def step(ctx: HandlerContext) -> None:
            self.router.file_delivered(source, ctx, platform, user_id, args)

        await self.call(step)

    async def posted(self, record: Record, ref: MessageRef) -> list[Reply]:
        return await asyncio.to_thread(self.posted_sync, record, ref)

    async def post_failed(self, record: Record, reason: str) -> list[Reply]:
        return await asyncio.to_thread(self.post_failed_sync, record, reason)


def _delivery_id(event: Event) -> str | None:
    if isinstance(event, ThreadMessage | MemberJoined):
        return event.event_id
    return None
