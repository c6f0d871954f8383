"""The group-commit writer on its own: batching, per-item results, failures and shutdown."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from bot import group_commit
from bot.group_commit import GroupCommit, WriterStopped


class Store:
    """Records batches; the first batch waits for ``release`` so the next ones pile up."""

    def __init__(self, hold_first: bool = True) -> None:
        self.batches: list[list[int]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, items: list[int]) -> list[str]:
        self.batches.append(items)
        self.entered.set()
        self.release.wait(10)
        return [f"stored {item}" for item in items]


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_items_arriving_during_a_write_form_the_next_batch() -> None:
    store = Store()
    writer: GroupCommit[int, str] = GroupCommit(store, max_batch=100)
    first = asyncio.create_task(writer.submit(0))
    await asyncio.to_thread(store.entered.wait, 5)
    rest = [asyncio.create_task(writer.submit(n)) for n in range(1, 31)]
    await until(lambda: writer.queued == 30)
    store.release.set()
    results = await asyncio.gather(first, *rest)
    assert results == [f"stored {n}" for n in range(31)]
    assert store.batches == [[0], list(range(1, 31))]
    await writer.close()


async def test_a_batch_is_at_most_max_batch() -> None:
    store = Store()
    writer: GroupCommit[int, str] = GroupCommit(store, max_batch=8)
    first = asyncio.create_task(writer.submit(0))
    await asyncio.to_thread(store.entered.wait, 5)
    rest = [asyncio.create_task(writer.submit(n)) for n in range(1, 21)]
    await until(lambda: writer.queued == 20)
    store.release.set()
    await asyncio.gather(first, *rest)
    assert [len(batch) for batch in store.batches] == [1, 8, 8, 4]
    await writer.close()


async def test_a_failing_store_fails_its_batch_and_the_writer_goes_on() -> None:
    calls = 0

    def store(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")
        return items

    writer: GroupCommit[int, int] = GroupCommit(store)
    with pytest.raises(RuntimeError):
        await writer.submit(1)
    assert await writer.submit(2) == 2
    await writer.close()


async def test_close_stores_what_is_queued_then_refuses_new_items() -> None:
    store = Store()
    writer: GroupCommit[int, str] = GroupCommit(store)
    waiting = [asyncio.create_task(writer.submit(n)) for n in range(5)]
    await asyncio.to_thread(store.entered.wait, 5)
    store.release.set()
    await writer.close()
    assert [task.result() for task in waiting] == [f"stored {n}" for n in range(5)]
    with pytest.raises(WriterStopped):
        await writer.submit(6)


async def test_close_is_bounded_and_what_is_left_is_told_to_try_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(group_commit, "STOP_SECONDS", 0.2)
    store = Store()  # never released: a database that hangs
    writer: GroupCommit[int, str] = GroupCommit(store)
    in_flight = asyncio.create_task(writer.submit(0))
    await asyncio.to_thread(store.entered.wait, 5)
    queued = asyncio.create_task(writer.submit(1))
    await until(lambda: writer.queued == 1)
    started = time.monotonic()
    await writer.close()
    assert time.monotonic() - started < 2
    for task in (in_flight, queued):
        with pytest.raises(WriterStopped):
            await task
    store.release.set()
