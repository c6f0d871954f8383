"""The router's dispatch of thread messages (batch handlers and one-at-a-time handlers) and
the listeners that follow a kind of post."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from bot.runtime import Runtime
from handlers.core.events import Actor, MessageRef, Place, ThreadMessage
from handlers.core.replies import Ephemeral, Record, Reply, rich
from handlers.core.router import Router
from handlers.privacy.guard import StructuredGuard
from prompts import load_texts
from storage.db import Database
from storage.models import Channel

PLACE = Place("slack", "C1", "T1", "leerkring")


def message(n: int) -> ThreadMessage:
    return ThreadMessage(Actor("slack", f"U{n}"), PLACE, "1.1", f"2.{n}", f"tekst {n}", f"Ev{n}")


def notice(text: str) -> Ephemeral:
    return Ephemeral(rich(text))


def texts(replies: Sequence[Reply]) -> list[str]:
    return [r.text.plain() for r in replies if isinstance(r, Ephemeral)]


def test_batch_and_single_handlers_answer_per_event_in_order() -> None:
    router = Router()
    batches: list[int] = []

    def batch(events: Sequence[ThreadMessage], ctx: Any) -> list[list[Reply]]:
        batches.append(len(events))
        return [[notice(f"batch {e.message_id}")] for e in events]

    def single(event: ThreadMessage, ctx: Any) -> list[Reply]:
        return [notice(f"single {event.message_id}")] if event.message_id != "2.1" else []

    router.thread_messages(batch)
    router.thread_message(single)
    ctx: Any = None  # neither handler touches the context
    replies = router.dispatch_thread_messages([message(0), message(1), message(2)], ctx)
    assert [texts(rs) for rs in replies] == [
        ["batch 2.0", "single 2.0"],
        ["batch 2.1"],
        ["batch 2.2", "single 2.2"],
    ]
    assert batches == [3]
    # One event through dispatch is a batch of one.
    assert texts(router.dispatch(message(5), ctx)) == ["batch 2.5", "single 2.5"]


def test_after_posted_listeners_follow_the_owner_and_a_failing_one_is_undone_alone(
    database: Database,
) -> None:
    """A listener of a kind of post runs after the owner's hook, in the same unit of work; one
    that fails is rolled back to its savepoint and logged, the owner's work and the other
    listeners' stay."""

    router = Router()
    order: list[str] = []

    def owner(ctx: Any, object_id: int, ref: MessageRef) -> list[Reply]:
        order.append("owner")
        ctx.repos.channels.ensure("slack", "C-owner")
        return [notice("owner")]

    def failing(ctx: Any, object_id: int, ref: MessageRef) -> list[Reply]:
        order.append("failing")
        ctx.repos.channels.ensure("slack", "C-failing")
        ctx.session.flush()
        raise RuntimeError("a bug in a listener")

    def fine(ctx: Any, object_id: int, ref: MessageRef) -> list[Reply]:
        order.append("fine")
        ctx.repos.channels.ensure("slack", "C-fine")
        return [notice("fine")]

    router.on_posted("casus", owner, lambda ctx, object_id, reason: [])
    router.after_posted("casus", failing)
    router.after_posted("casus", fine)
    runtime = Runtime(database, router, load_texts("nl"), StructuredGuard())
    ref = MessageRef("slack", "C1", "1.1")

    replies = runtime.posted_sync(Record("casus", 7), ref)
    assert texts(replies) == ["owner", "fine"]
    assert order == ["owner", "failing", "fine"]
    with database.session() as session:
        ids = set(session.scalars(select(Channel.platform_channel_id)))
    assert ids == {"C-owner", "C-fine"}
