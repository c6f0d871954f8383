"""Group commit: one writer stores whatever arrived while it was writing the previous batch.

Thread replies are stored before Slack gets its ack, so that a failed store can answer 500
and Slack redelivers. Stored one transaction each, fifty replies at once cost fifty
worker-thread hops, fifty transactions of seven statements and fifty commits, queued behind
each other. Here every reply waits only for the batch it lands in: the writer takes all that
is queued (up to ``max_batch``), stores it with one call in its own thread, and hands each
caller its own result. There is no timer: on a quiet server a batch is a single reply and
waits for nothing; under load the batches grow by themselves while the previous one commits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 100
# Shutdown stores what is queued for at most this long (aiohttp has already waited for the
# requests in flight, so normally nothing is).
STOP_SECONDS = 10.0


class WriterStopped(Exception):
    """The writer stopped before this item was stored; the caller answers "try again"."""


class GroupCommit(Generic[T, R]):
    """Batches ``submit`` calls into ``store(items) -> results`` (one result per item, in
    order), run one batch at a time in a thread of its own, so slow work elsewhere in the
    default pool never holds up an ack. Bound to the event loop it is first used in."""

    def __init__(self, store: Callable[[list[T]], list[R]], max_batch: int = MAX_BATCH) -> None:
        self._store = store
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leerkring-writer")
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.loop = asyncio.get_running_loop()

    @property
    def queued(self) -> int:
        """Items waiting for the next batch (not counting the one being written)."""
        return self._queue.qsize()

    async def submit(self, item: T) -> R:
        if self._closed:
            raise WriterStopped("the writer is stopping")
        future: asyncio.Future[R] = self.loop.create_future()
        self._queue.put_nowait((item, future))
        if self._task is None:
            self._task = self.loop.create_task(self._run(), name="leerkring-group-commit")
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                items = [item for item, _ in batch]
                results = await self.loop.run_in_executor(self._executor, self._store, items)
            except asyncio.CancelledError:
                # Stopped while this batch was being written: it may still commit, but its
                # callers answer "try again" now; a redelivery then counts once.
                _fail(batch, WriterStopped("the writer stopped"))
                raise
            except Exception as exc:
                log.error("group commit of %d items failed: %s", len(batch), type(exc).__name__)
                _fail(batch, exc)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # a caller that went away is not waited for
                        future.set_result(result)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def close(self) -> None:
        """Store what is queued, within ``STOP_SECONDS``; whatever is left fails with
        ``WriterStopped`` so its caller can still answer."""
        self._closed = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._queue.join(), STOP_SECONDS)
            except TimeoutError:
                log.warning("group commit: stopped with %d items unstored", self._queue.qsize())
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        left = []
        while not self._queue.empty():
            left.append(self._queue.get_nowait())
        _fail(left, WriterStopped("the writer stopped"))
        self._executor.shutdown(wait=False)


def _fail(batch: list[tuple[T, asyncio.Future[R]]], exc: BaseException) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
