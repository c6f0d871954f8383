"""The router's dispatch of thread messages: batch handlers and one-at-a-time handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.core.events import Actor, Place, ThreadMessage
from handlers.core.replies import Ephemeral, Reply, rich
from handlers.core.router import Router

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
