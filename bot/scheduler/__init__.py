"""The scheduler: one module, one explicit time zone, jobs as module-level functions.

The database is the source of truth. A short ``tick`` job runs the steps the features
registered (``router.engine_step``; handlers/<feature>/engine.py), in their stated order, each
doing its synchronous work in units of work of its own. Because every row that is sent to
people is written before it is sent and claimed while it is sent (handlers/core/sending.py), a
restart or a failover resumes where it stopped without sending anything twice. The scheduler
knows no feature: it holds the leader lock, the clock, the messengers and the wake-ups.

Several replicas on PostgreSQL: exactly one is the leader (bot/scheduler/leadership.py). On
SQLite there is one process, which is always the leader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import revocation
from bot.runtime import Runtime
from bot.scheduler.leadership import LOCK_SQL, Leadership
from handlers.core.events import MessageRef
from handlers.core.messaging import DeliveryFailed, Messengers
from handlers.core.registry import Registry
from handlers.core.replies import DirectMessage, Record, Reply

if TYPE_CHECKING:
    from bot.metrics import Metrics

__all__ = ["LOCK_SQL", "Leadership", "Scheduler", "now_utc", "tick_job", "wake_job"]

log = logging.getLogger(__name__)


class Scheduler:
    """Runs the registered steps at every tick; it is the ``Engine`` the steps see
    (handlers/core/registry.py). ``options`` are the features' settings (``grace``,
    ``followup_after``, ``retention_months``, ...), read by the steps with ``option``."""

    def __init__(
        self,
        runtime: Runtime,
        messengers: Messengers,
        *,
        tick_seconds: float = 15,
        concurrency: int = 4,
        metrics: Metrics | None = None,
        **options: Any,
    ) -> None:
        self.runtime = runtime
        self.messengers = messengers
        self.registry: Registry = runtime.router.registry
        self.tick_seconds = tick_seconds
        self.options = options
        self.metrics = metrics
        self.state: dict[str, Any] = {}
        self.leadership = Leadership(runtime)
        self.semaphore = asyncio.Semaphore(concurrency)
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._wakes: dict[str, datetime] = {}

    # --- lifecycle ---

    def start(self) -> None:
        global _current
        _current = self
        scheduler = AsyncIOScheduler(timezone=ZoneInfo(self.runtime.zone))
        scheduler.add_job(
            tick_job,
            IntervalTrigger(seconds=self.tick_seconds, timezone=ZoneInfo(self.runtime.zone)),
            id="leerkring-tick",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info(
            "scheduler started (tick every %ss, zone %s)", self.tick_seconds, self.runtime.zone
        )

    async def stop(self) -> None:
        global _current
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._wakes.clear()
        async with self._lock:  # let a running tick finish
            pass
        await asyncio.to_thread(self.leadership.release)
        if self.metrics is not None:
            self.metrics.leader.set(0)
        if _current is self:
            _current = None

    # --- the tick ---

    async def tick(self) -> dict[str, int]:
        """Every registered step, once, in order. Safe to call at any time from any replica:
        only the leader runs the steps."""
        async with self._lock:
            if self.metrics is None:
                return await self._tick(lambda led: None)
            with self.metrics.tick() as leads:
                return await self._tick(leads)

    async def _tick(self, leads: Callable[[bool], None]) -> dict[str, int]:
        leader = await asyncio.to_thread(self.leadership.check)
        leads(leader)
        if not leader:
            return {"leader": 0}
        stats = {"leader": 1}
        # Platforms whose workspace uninstalled the app: nothing is sent there until it
        # is installed again (bot/revocation.py).
        self.messengers.stopped = await asyncio.to_thread(
            revocation.revoked_platforms, self.runtime.database
        )
        for step in self.registry.ordered_steps():
            for name, count in (await step.run(self)).items():
                stats[name] = stats.get(name, 0) + count
        return stats

    # --- what the steps use (the Engine protocol) ---

    async def call(self, step: Callable[..., Any], *args: Any) -> Any:
        return await self.runtime.call(step, *args)

    async def posted(self, record: Record, ref: MessageRef) -> list[Reply]:
        return await self.runtime.posted(record, ref)

    async def notify(self, notice: DirectMessage) -> None:
        """A word for a facilitator (e.g. a schedule that could not start); logged if lost."""
        try:
            await self.messengers.get(notice.platform).direct(notice.user_id, notice.content)
        except DeliveryFailed as exc:
            log.warning("notice to %s not sent: %s", notice.user_id, exc.reason)

    def now(self) -> datetime:
        return self.runtime.clock()

    def option(self, name: str, default: Any) -> Any:
        return self.options.get(name, default)

    def wake_at(self, moment: datetime, key: str) -> None:
        """A DateTrigger job at ``moment`` that runs the tick (replacing an older one)."""
        if self._scheduler is None or self._wakes.get(key) == moment:
            return
        self._scheduler.add_job(
            wake_job,
            DateTrigger(run_date=moment),
            args=[key],
            id=key,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )
        self._wakes[key] = moment


# --- module-level jobs (APScheduler calls these; their arguments are plain values) ------------

_current: Scheduler | None = None


async def tick_job() -> None:
    scheduler = _current
    if scheduler is None:
        return
    try:
        await scheduler.tick()
    except Exception:
        log.exception("scheduler tick failed")


async def wake_job(key: str) -> None:
    """A moment a step asked for (``wake_at``): run the tick now (leader check included)."""
    scheduler = _current
    if scheduler is None:
        return
    scheduler._wakes.pop(key, None)
    try:
        await scheduler.tick()
    except Exception:
        log.exception("scheduler wake-up %s failed", key)


def now_utc() -> datetime:
    return datetime.now(UTC)


Clock = Callable[[], datetime]
