"""Thread replies that arrive together: the group commit behind Slack's ack, through the running
server with signed requests, on both databases. Stored before the ack, once per event_id, and a
reply that could not be stored answers 500 so that Slack redelivers it."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from bot.runtime import Outcome
from handlers.core.events import ThreadMessage
from handlers.privacy.guard import Finding, StructuredGuard
from storage.db import Database
from storage.models import Bijdrage, Casus, ProcessedEvent
from tests.bot.slack.test_casus_flow import bring_in, post_json
from tests.conftest import RunningServer
from tests.support.signing import thread_reply_event

BSN = "111222333"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}


def reply(casus: Casus, n: int, text: str | None = None) -> dict[str, Any]:
    return thread_reply_event(
        text or f"Bijdrage {n}: ik zou eerst vragen wat de moeder zelf wil.",
        thread_ts=casus.message_id or "",
        ts=f"1700000200.{n:06d}",
        user=f"U{n % 7:03d}",
        event_id=f"EvBATCH{n:04d}",
    )


def stored(server: RunningServer) -> dict[str, str]:
    """Bijdragen by Slack ts."""
    with server.database.session() as session:
        return {b.message_id or "": b.text for b in session.scalars(select(Bijdrage))}


def claimed(server: RunningServer) -> int:
    with server.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)


class Batches:
    """Wraps the runtime's batch store: records batch sizes, holds the first batch until
    released (so that everything sent meanwhile forms the next batch), and can run a
    given batch under a fault."""

    def __init__(self, server: RunningServer) -> None:
        runtime = server.services.runtime
        assert runtime.thread_writer is None, "install before the first thread reply"
        self.sizes: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fault: dict[int, Callable[[], Any]] = {}  # batch number -> context manager
        store = runtime.handle_batch_sync

        def batch(events: Sequence[ThreadMessage]) -> list[Outcome]:
            self.sizes.append(len(events))
            if len(self.sizes) == 1:
                self.entered.set()
                self.release.wait(10)
            fault = self.fault.get(len(self.sizes))
            if fault is None:
                return store(events)
            with fault():
                return store(events)

        runtime.handle_batch_sync = batch  # type: ignore[method-assign]
        self.server = server

    async def send_together(self, first: dict[str, Any], rest: list[dict[str, Any]]) -> list[int]:
        """``first`` alone in batch 1, then all of ``rest`` in batch 2; the HTTP statuses."""
        head = asyncio.create_task(post_json(self.server, first))
        await asyncio.to_thread(self.entered.wait, 10)
        tail = [asyncio.create_task(post_json(self.server, event)) for event in rest]
        writer = self.server.services.runtime.thread_writer
        assert writer is not None
        deadline = time.monotonic() + 10
        while writer.queued < len(rest):
            assert time.monotonic() < deadline, f"only {writer.queued} queued"
            await asyncio.sleep(0.01)
        self.release.set()
        return [status for status, _ in await asyncio.gather(head, *tail)]


@contextmanager
def commits_fail(database: Database) -> Iterator[None]:
    """The database refuses to commit (a full disk, a connection lost at the last moment)."""
    dialect = database.engine.dialect

    def refuse(dbapi_connection: Any) -> None:
        raise dialect.loaded_dbapi.OperationalError("injected: could not commit")

    dialect.do_commit = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        del dialect.do_commit


class Exploding(StructuredGuard):
    """A guard with a bug that only one text triggers."""

    def check(self, fields: Any) -> list[Finding]:
        if any("BOOM" in text for text in fields.values()):
            raise ValueError("guard bug")
        return super().check(fields)


async def test_fifty_concurrent_replies_are_stored_once_each_in_few_transactions(
    server: RunningServer,
) -> None:
    casus = await bring_in(server)
    batches = Batches(server)
    batches.release.set()  # no holding: let batches form as they do under load
    events = [
        reply(casus, n, f"Bijdrage {n}: haar BSN is {BSN}." if n % 10 == 0 else None)
        for n in range(50)
    ]
    # Ten of them are redelivered by Slack while the first delivery is still in flight.
    sends = [post_json(server, event) for event in events]
    sends += [post_json(server, event, **RETRY) for event in events[5:15]]
    results = await asyncio.gather(*sends)
    assert [status for status, _ in results] == [200] * 60
    rows = stored(server)
    assert len(rows) == 50 and claimed(server) == 50
    assert all(BSN not in text for text in rows.values())
    assert rows["1700000200.000010"] == "Bijdrage 10: haar BSN is [BSN]."
    assert sum(batches.sizes) == 60 and len(batches.sizes) < 60
    # The five authors whose reply held a BSN are told privately, nobody else.
    notices = await server.slack.wait_for("chat.postEphemeral", 5)
    await asyncio.sleep(0.2)
    notices = server.slack.calls_to("chat.postEphemeral")
    assert sorted(n["user"] for n in notices) == sorted(f"U{n % 7:03d}" for n in range(0, 50, 10))
    assert BSN not in json.dumps(notices)


async def test_a_redelivery_in_the_same_batch_counts_once(server: RunningServer) -> None:
    casus = await bring_in(server)
    batches = Batches(server)
    first, event = reply(casus, 0), reply(casus, 1)
    statuses = await batches.send_together(first, [event, event, reply(casus, 2)])
    assert statuses == [200] * 4
    assert batches.sizes == [1, 3]
    assert sorted(stored(server)) == ["1700000200.000000", "1700000200.000001", "1700000200.000002"]
    assert claimed(server) == 3


async def test_one_failing_reply_gets_500_and_the_rest_of_its_batch_is_stored(
    server: RunningServer,
) -> None:
    casus = await bring_in(server)
    batches = Batches(server)
    runtime = server.services.runtime
    runtime.guard = Exploding()
    bad = reply(casus, 7, "Bijdrage 7: BOOM")
    rest = [reply(casus, n) for n in range(1, 7)] + [bad, bad]  # and a copy of it
    statuses = await batches.send_together(reply(casus, 0), rest)
    assert statuses == [200] * 7 + [500, 500]
    assert batches.sizes == [1, 8]
    assert sorted(stored(server)) == [f"1700000200.{n:06d}" for n in range(7)]
    assert claimed(server) == 7  # the bad one's claim was rolled back with it
    assert server.slack.calls_to("chat.postEphemeral") == []  # a 500 is not also a notice
    # Fixed, Slack's redelivery stores it once.
    runtime.guard = StructuredGuard()
    status, _ = await post_json(server, bad, **RETRY)
    assert status == 200
    assert stored(server)["1700000200.000007"] == "Bijdrage 7: BOOM"
    status, _ = await post_json(server, bad, **{**RETRY, "X-Slack-Retry-Num": "2"})
    assert status == 200 and len(stored(server)) == 8 and claimed(server) == 8


async def test_a_batch_whose_commit_fails_answers_500_for_all_and_stores_none(
    server: RunningServer,
) -> None:
    casus = await bring_in(server)
    batches = Batches(server)
    batches.fault[2] = lambda: commits_fail(server.database)
    rest = [reply(casus, n) for n in range(1, 21)]
    statuses = await batches.send_together(reply(casus, 0), rest)
    assert statuses == [200] + [500] * 20
    assert batches.sizes == [1, 20]
    assert list(stored(server)) == ["1700000200.000000"] and claimed(server) == 1
    # Slack redelivers each, some of them twice; every reply is stored exactly once.
    again = [post_json(server, event, **RETRY) for event in rest]
    again += [post_json(server, event, **{**RETRY, "X-Slack-Retry-Num": "2"}) for event in rest[:5]]
    results = await asyncio.gather(*again)
    assert [status for status, _ in results] == [200] * 25
    assert sorted(stored(server)) == [f"1700000200.{n:06d}" for n in range(21)]
    assert claimed(server) == 21


async def test_a_reply_arriving_after_the_writer_stopped_answers_500(
    server: RunningServer,
) -> None:
    casus = await bring_in(server)
    status, _ = await post_json(server, reply(casus, 1))
    assert status == 200
    await server.services.runtime.close()  # what shutdown does once requests in flight are done
    status, _ = await post_json(server, reply(casus, 2))
    assert status == 500  # Slack redelivers it to this server once it is back, or to another
    assert list(stored(server)) == ["1700000200.000001"] and claimed(server) == 1
