"""Runs handlers: one unit of work per event, in a worker thread, with deduplication.

Adapters call ``handle(event)`` and get an ``Outcome``; after they delivered a ``PostMessage``
with ``record_as`` they call ``posted`` or ``post_failed`` so the handler can finish or undo.
Thread messages are stored by a group commit: the ones that arrive together share one unit
of work and one commit, each with its own outcome (``handle_batch_sync``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.group_commit import GroupCommit
from handlers.core.context import HandlerContext, Repositories
from handlers.core.events import Event, MemberJoined, ThreadMessage
from handlers.core.replies import Ephemeral, Record, Reply
from handlers.core.router import MessageRef, Router
from handlers.privacy.guard import PrivacyGuard
from prompts import Texts
from storage.db import Database, DatabaseUnavailable

if TYPE_CHECKING:
    from bot.metrics import Metrics

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
        self._thread_writer: GroupCommit[ThreadMessage, Outcome] | None = None
        # Counts events and times guard checks (bot/metrics.py); None: nothing is measured.
        self.metrics: Metrics | None = None

    def _context(self, repos: Repositories) -> HandlerContext:
        return HandlerContext(
            repos=repos,
            texts=self.texts,
            guard=self.metrics.measure_guard(self.guard) if self.metrics else self.guard,
            facilitators=self.facilitators,
            now=self.clock,
            zone=self.zone,
            hmac_secret=self.hmac_secret,
            registry=self.router.registry,
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

    def handle_batch_sync(self, events: Sequence[ThreadMessage]) -> list[Outcome]:
        """Thread messages that arrived together: one unit of work and one commit, an outcome
        per event. A second copy of a delivery id in the batch shares the first one's fate: a
        duplicate when it was stored, the same failure when not."""
        keys = [(event.actor.platform, event.event_id) for event in events]
        first: dict[tuple[str, str], ThreadMessage] = {}
        for key, event in zip(keys, events, strict=True):
            first.setdefault(key, event)
        stored = dict(zip(first, self._store_batch(list(first.values())), strict=True))
        outcomes: list[Outcome] = []
        seen: set[tuple[str, str]] = set()
        for key in keys:
            outcome = stored[key]
            outcomes.append(
                Outcome(duplicate=True) if key in seen and not outcome.failure else outcome
            )
            seen.add(key)
        return outcomes

    def _store_batch(self, events: list[ThreadMessage]) -> list[Outcome]:
        if len(events) == 1:
            return [self.handle_sync(events[0])]
        try:
            with self.database.session() as session:
                repos = Repositories(session)
                claimed = repos.events.claim_many([(e.actor.platform, e.event_id) for e in events])
                fresh = [e for e in events if (e.actor.platform, e.event_id) in claimed]
                replies = iter(self.router.dispatch_thread_messages(fresh, self._context(repos)))
                outcomes = [
                    Outcome(next(replies))
                    if (e.actor.platform, e.event_id) in claimed
                    else Outcome(duplicate=True)
                    for e in events
                ]
            return outcomes
        except DatabaseUnavailable:
            notice = Ephemeral(self.texts.rich("general.error_db"))
            return [Outcome([notice], failure="database") for _ in events]
        except Exception as exc:
            # Nothing of the batch was written. One event may be at fault (a bug, a value the
            # database refuses): each is tried again in a unit of work of its own, so the others
            # are stored and only that one fails. Its own traceback is logged there.
            log.error(
                "batch of %d thread messages failed (%s); storing them one by one",
                len(events),
                type(exc).__name__,
            )
            outcomes = []
            for event in events:
                if outcomes and outcomes[-1].failure == "database":
                    outcomes.append(outcomes[-1])  # gone: the rest would only wait in turn
                else:
                    outcomes.append(self.handle_sync(event))
            return outcomes

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
        if isinstance(event, ThreadMessage):
            outcome = await self._writer().submit(event)
        else:
            outcome = await asyncio.to_thread(self.handle_sync, event)
        if self.metrics is not None:
            self.metrics.count_event(type(event).__name__, outcome.duplicate, outcome.failure)
        return outcome

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

    @property
    def thread_writer(self) -> GroupCommit[ThreadMessage, Outcome] | None:
        """The group commit for thread messages, once one arrived."""
        return self._thread_writer

    def _writer(self) -> GroupCommit[ThreadMessage, Outcome]:
        writer = self._thread_writer
        if writer is None or writer.loop is not asyncio.get_running_loop():
            writer = self._thread_writer = GroupCommit(self.handle_batch_sync)
        return writer

    async def close(self) -> None:
        """Store the thread messages still queued (bounded), then stop the writer."""
        if self._thread_writer is not None:
            await self._thread_writer.close()

    async def posted(self, record: Record, ref: MessageRef) -> list[Reply]:
        return await asyncio.to_thread(self.posted_sync, record, ref)

    async def post_failed(self, record: Record, reason: str) -> list[Reply]:
        return await asyncio.to_thread(self.post_failed_sync, record, reason)


def _delivery_id(event: Event) -> str | None:
    if isinstance(event, ThreadMessage | MemberJoined):
        return event.event_id
    return None
