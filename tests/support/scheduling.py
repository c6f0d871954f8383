"""Test helpers for anything driven by the scheduler: a controlled clock, and schedulers that
are always stopped (a leader holds a PostgreSQL connection until then).

Modules import ``stop_schedulers`` so the autouse fixture applies to their tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.scheduler import Scheduler
from bot.services import Services


class Clock:
    """Injected as ``runtime.clock``. Elapsed time is added to the UTC instant, because
    arithmetic on a zone-aware datetime is wall-clock arithmetic across DST."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)


_made: list[Scheduler] = []


def scheduler_for(services: Services, **kw: Any) -> Scheduler:
    scheduler = Scheduler(services.runtime, services.messengers, **kw)
    _made.append(scheduler)
    return scheduler


@pytest.fixture(autouse=True)
async def stop_schedulers() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().stop()  # releases the leader connection on PostgreSQL
