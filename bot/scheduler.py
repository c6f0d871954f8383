"""The scheduler: one module, one explicit time zone, jobs as module-level functions.

The database is the source of truth. A short ``tick`` job finds what is due (schedules to
fire, fan-outs to finish, reminders, closings, casus follow-ups) and does it; each step is an
engine function from handlers/reflection.py in its own transaction. Because every run has a
unique fire key written before anything is sent, and every recipient row records whether it
was sent, a restart or a failover resumes where it stopped without sending anything twice.

Several replicas on PostgreSQL: exactly one is the leader, holding a session-level advisory
lock on a dedicated connection that is checked every tick. If the leader dies, its connection
closes, the lock is released and another replica takes over at its next tick. On SQLite there
is one process, which is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, text

from bot import revocation
from bot.messaging import (
    NOT_SENT,
    PERMANENT,
    DeliveryFailed,
    Messengers,
    find_earlier_post,
    outbox_key,
)
from bot.outbox import OutboxSteps, all_done, direct_once
from bot.runtime import Runtime
from bot.speedsparren import SpeedsparRunner
from handlers import casus, profiles, reflection, retention
from handlers.events import Place
from handlers.replies import DirectMessage, Record
from storage.models import PromptRun

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=1)
# A casus post not recorded after this long is looked for on the platform (a post in flight
# is recorded by its own request well within it: Slack's client gives up after minutes).
RECONCILE_AFTER = timedelta(minutes=1)
# Not found on the platform after this long: the post never arrived, the casus is removed.
RECONCILE_GIVE_UP = timedelta(minutes=15)

# The advisory lock that makes one replica the leader, scoped to database and schema so that
# separate installations sharing a PostgreSQL server do not block each other.
LOCK_SQL = "hashtext('leerkring-scheduler:' || current_database() || ':' || current_schema())"


class Leadership:
    """Who may run jobs. SQLite: this process. PostgreSQL: whoever holds the lock.

    `check` and `release` run in worker threads. A tick cancelled at shutdown leaves its
    `check` running in its thread, so both hold one thread lock, and after `release` no
    `check` keeps a connection: the lock is never left on a connection nobody closes."""

    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.database.engine
        self.connection: Connection | None = None
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._guard = threading.Lock()
        self._released = False

    def check(self) -> bool:
        if not self.is_postgres:
            return True
        with self._guard:
            if self._released:
                return False
            if self.connection is not None:
                try:
                    self.connection.execute(text("SELECT 1"))
                    return True
                except Exception as exc:
                    log.warning("scheduler lost its leader connection: %s", type(exc).__name__)
                    self._drop()
            try:
                connection = self.engine.connect()
            except Exception as exc:
                log.warning("scheduler cannot reach the database: %s", type(exc).__name__)
                return False
            try:
                got = connection.execute(text(f"SELECT pg_try_advisory_lock({LOCK_SQL})")).scalar()
                connection.commit()
            except Exception as exc:
                log.warning("scheduler cannot reach the database: %s", type(exc).__name__)
                with contextlib.suppress(Exception):
                    connection.invalidate()
                with contextlib.suppress(Exception):
                    connection.close()
                return False
            if got:
                self.connection = connection
                log.info("this process is now the scheduler leader")
                return True
            connection.close()
            return False

    def release(self) -> None:
        """Give up the lock for good (at shutdown): later checks answer False."""
        with self._guard:
            self._released = True
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.execute(text(f"SELECT pg_advisory_unlock({LOCK_SQL})"))
                self.connection.commit()
            # This connection held session state (the lock): close it for real rather than
            # hand it back to the pool.
            with contextlib.suppress(Exception):
                self.connection.invalidate()
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


class ReflectionScheduler:
    def __init__(
        self,
        runtime: Runtime,
        messengers: Messengers,
        *,
        grace: timedelta = timedelta(hours=1),
        followup_after: timedelta | None = timedelta(weeks=4),
        tick_seconds: float = 15,
        concurrency: int = 4,
        retention_months: int = 0,
    ) -> None:
        self.runtime = runtime
        self.messengers = messengers
        self.grace = grace
        self.followup_after = followup_after
        self.tick_seconds = tick_seconds
        self.leadership = Leadership(runtime)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self.speedspar = SpeedsparRunner(runtime, messengers, self._semaphore, wake=self.tick)
        self.retention_months = retention_months
        self._last_purge: datetime | None = None

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
        self.speedspar.attach(scheduler)
        log.info(
            "scheduler started (tick every %ss, zone %s)", self.tick_seconds, self.runtime.zone
        )

    async def stop(self) -> None:
        global _current
        self.speedspar.detach()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._lock:  # let a running tick finish
            pass
        await asyncio.to_thread(self.leadership.release)
        if _current is self:
            _current = None

    # --- the tick ---

    async def tick(self) -> dict[str, int]:
        """Everything that is due, once. Safe to call at any time from any replica."""
        async with self._lock:
            if not await asyncio.to_thread(self.leadership.check):
                return {"leader": 0}
            stats = {"leader": 1, "fired": 0, "sent": 0, "reminded": 0, "closed": 0}
            self.messengers.stopped = await asyncio.to_thread(
                revocation.revoked_platforms, self.runtime.database
            )
            for result in await self.runtime.call(reflection.fire_due, self.grace):
                stats["fired"] += result.fired
                if result.notice is not None:
                    await self.notify(result.notice)
            if self.followup_after is not None:
                await self.runtime.call(reflection.casus_followups, self.followup_after)
            if recovered := await self.reconcile_posts():
                stats["recovered"] = recovered
            stats["sent"] = await self.deliver_pending()
            if welcomed := await self.send_welcomes():
                stats["welcomed"] = welcomed
            stats["reminded"] = await self.send_reminders()
            stats["closed"] = await self.close_runs()
            await self.speedspar.tick()
            if self.retention_months:
                stats["purged"] = await self.purge_if_due()
            return stats

    async def reconcile_posts(self) -> int:
        """Casussen that were posted while the database went away (or the process died) before
        the post was recorded: find the post by its metadata key and record it."""
        recovered = 0
        for item in await self.runtime.call(casus.unrecorded_posts, RECONCILE_AFTER):
            key = outbox_key("casus", item.casus_id)
            try:
                messenger = self.messengers.get(item.place.platform)
                ref = await messenger.find_posted(item.place, key, item.created_at)
            except DeliveryFailed as exc:
                log.info("casus %s: cannot check its post yet: %s", item.casus_id, exc.reason)
                continue
            if ref is not None:
                await self.runtime.posted(Record("casus", item.casus_id), ref)
                log.info("casus %s: its unrecorded post was found and recorded", item.casus_id)
                recovered += 1
            elif self.runtime.clock() - item.created_at > RECONCILE_GIVE_UP:
                await self.runtime.call(casus.drop_unposted, item.casus_id)
                log.warning("casus %s: never reached the channel; removed", item.casus_id)
        return recovered

    async def purge_if_due(self) -> int:
        """The retention purge (handlers/retention.py), at most once an hour."""
        if not self.retention_months:
            return 0
        now = self.runtime.clock()
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY:
            return 0
        result = await self.runtime.call(retention.purge_expired, self.retention_months)
        self._last_purge = now
        return result.total

    async def fire_now(self, schedule_id: int) -> reflection.FireResult:
        """`leerkring schedule run <id>`: the same path as the timer, right now."""

        def fire(ctx: Any) -> reflection.FireResult:
            schedule = ctx.repos.schedules.get(schedule_id)
            if schedule is None:
                raise LookupError(schedule_id)
            key = f"s{schedule.id}:now:{ctx.now().isoformat()}"
            return reflection.fire_run(ctx, schedule, ctx.now(), key)

        result = await self.runtime.call(fire)
        if result.run_id is not None:
            # No later tick in this process: DMs postponed after the client's own 429 retries
            # are tried again here for as long as each pass still gets some through.
            while await self.deliver_pending():
                if not await self.runtime.call(_pending_deliveries, result.run_id):
                    break
        if result.session_id is not None:
            await self.speedspar.run_session(result.session_id)  # posts the announcement
        return result

    async def notify(self, notice: DirectMessage) -> None:
        """A word for a facilitator (e.g. a schedule that could not start); logged if lost."""
        try:
            await self.messengers.get(notice.platform).direct(notice.user_id, notice.content)
        except DeliveryFailed as exc:
            log.warning("notice to %s not sent: %s", notice.user_id, exc.reason)

    # --- delivery ---

    async def deliver_pending(self) -> int:
        runs = await self.runtime.call(_runs_needing_delivery)
        sent = 0
        for run in runs:
            sent += await self.deliver_run(run)
        return sent

    async def deliver_run(self, run: RunInfo) -> int:
        if run.platform in self.messengers.stopped:
            return 0  # logged once, when the workspace revoked the app
        try:
            messenger = self.messengers.get(run.platform)
        except DeliveryFailed:
            log.error("run %s: platform %s is not connected; not sent", run.run_id, run.platform)
            return 0
        place = Place(run.platform, run.channel_ref)
        if not run.recipients_listed:
            if run.delivery == "channel" and run.message_id is None:
                card = await self.runtime.call(_prompt_card, run.run_id)
                key = outbox_key("prompt_run", run.run_id)
                try:
                    # An earlier attempt may have been posted without its answer arriving.
                    ref = await find_earlier_post(messenger, place, key, run.created_at)
                    if ref is None:
                        ref = await messenger.post(place, card, key=key)
                except DeliveryFailed as exc:
                    log.error(
                        "run %s: posting in %s failed: %s", run.run_id, place.channel_id, exc.reason
                    )
                    if exc.reason in PERMANENT:
                        await self.runtime.call(_abandon, run.run_id)
                    return 0
                await self.runtime.call(reflection.mark_posted, run.run_id, ref.message_id)
            try:
                members = await messenger.channel_members(place)
            except DeliveryFailed as exc:
                log.error(
                    "run %s: listing members of %s failed: %s",
                    run.run_id,
                    place.channel_id,
                    exc.reason,
                )
                members = []
            await self.runtime.call(reflection.list_recipients, run.run_id, members)
            if run.delivery == "channel":
                return 1
        pending = await self.runtime.call(_pending_deliveries, run.run_id)
        if not pending:
            return 0
        card = await self.runtime.call(_prompt_card, run.run_id)

        sends = (
            direct_once(
                self.runtime,
                self._semaphore,
                messenger,
                PROMPT_DM,
                delivery_id,
                status,
                user_id,
                card,
                f"leerkring:prompt:{run.run_id}:{delivery_id}",
            )
            for delivery_id, user_id, status in pending
        )
        return await all_done(sends)

    async def send_welcomes(self) -> int:
        """Welcome DMs owed to people who joined a channel: the same outbox steps as a prompt
        DM (``sending`` before the call, looked for by key after a lost answer, marked after),
        so one the platform refused for a moment goes out at a later tick, and only once."""
        welcomes = await self.runtime.call(profiles.pending_welcomes)
        sends = []
        for item in welcomes:
            try:
                messenger = self.messengers.get(item.platform)
            except DeliveryFailed:
                continue  # stays pending until the platform is connected
            key = outbox_key("welcome", item.member_id)
            sends.append(
                direct_once(
                    self.runtime,
                    self._semaphore,
                    messenger,
                    WELCOME_DM,
                    item.member_id,
                    item.status,
                    item.user_id,
                    item.card,
                    key,
                )
            )
        return await all_done(sends)

    async def send_reminders(self) -> int:
        """Reminder DMs, each an outbox row like a prompt DM: written before (``pending``),
        ``sending`` before the call, looked for by its key when a process died after sending,
        marked after. A transient failure is tried again at the next tick."""
        await self.runtime.call(reflection.list_reminders)
        sends = []
        for reminder in await self.runtime.call(reflection.pending_reminders):
            try:
                messenger = self.messengers.get(reminder.platform)
            except DeliveryFailed:
                continue
            for delivery_id, user_id, status in reminder.deliveries:
                key = f"leerkring:reminder:{reminder.run_id}:{delivery_id}"
                sends.append(
                    direct_once(
                        self.runtime,
                        self._semaphore,
                        messenger,
                        REMINDER_DM,
                        delivery_id,
                        status,
                        user_id,
                        reminder.card,
                        key,
                    )
                )
        return await all_done(sends)

    async def close_runs(self) -> int:
        """Close runs whose window ended, then post the summaries still owed. A summary is
        marked ``posting`` before the call; one left so by a crash or a lost answer is looked
        for in the channel (thread) by its key before it is posted again."""
        closed = await self.runtime.call(reflection.close_due)
        for closing in await self.runtime.call(reflection.pending_summaries):
            await self.post_summary(closing)
        return len(closed)

    async def post_summary(self, closing: reflection.Closing) -> bool:
        key = outbox_key("summary", closing.run_id)
        try:
            messenger = self.messengers.get(closing.place.platform)
            ref = None
            if closing.status == "posting":
                try:
                    ref = await messenger.find_posted(
                        closing.place, key, closing.since, closing.thread_id
                    )
                except DeliveryFailed as exc:
                    if exc.reason != "unsupported":
                        raise
                    # The platform cannot tell (Teams): post again, at least once.
            else:
                await self.runtime.call(reflection.mark_summary_posting, closing.run_id)
            if ref is None:
                await messenger.post(closing.place, closing.card, closing.thread_id, key=key)
        except DeliveryFailed as exc:
            log.warning("run %s: summary not posted yet: %s", closing.run_id, exc.reason)
            if exc.reason in PERMANENT or exc.reason.startswith("platform_off"):
                await self.runtime.call(reflection.mark_summary_posted, closing.run_id, exc.reason)
            elif exc.reason in NOT_SENT:
                await self.runtime.call(reflection.mark_summary_unsent, closing.run_id)
            return False
        await self.runtime.call(reflection.mark_summary_posted, closing.run_id)
        return True


def _reminded(ctx: Any, delivery_id: int, message_id: str | None, error: str | None) -> None:
    reflection.mark_reminded(ctx, delivery_id, error)


def _welcomed(ctx: Any, member_id: int, message_id: str | None, error: str | None) -> None:
    profiles.mark_welcomed(ctx, member_id, error)


PROMPT_DM = OutboxSteps(reflection.mark_sending, reflection.mark_unsent, reflection.mark_sent)
REMINDER_DM = OutboxSteps(
    reflection.mark_reminder_sending, reflection.mark_reminder_unsent, _reminded
)
WELCOME_DM = OutboxSteps(profiles.mark_welcome_sending, profiles.mark_welcome_unsent, _welcomed)


class RunInfo:
    """What the async side needs to know about a run (no ORM objects cross threads)."""

    def __init__(self, run: PromptRun) -> None:
        self.run_id = run.id
        self.platform = run.channel.platform
        self.channel_ref = run.channel.platform_channel_id
        self.delivery = run.delivery
        self.message_id = run.message_id
        self.recipients_listed = run.recipients_listed
        self.created_at = run.created_at


def _runs_needing_delivery(ctx: Any) -> list[RunInfo]:
    return [RunInfo(run) for run in ctx.repos.runs.needing_delivery()]


def _pending_deliveries(ctx: Any, run_id: int) -> list[tuple[int, str, str]]:
    run = ctx.repos.runs.get(run_id)
    if run is None:
        return []
    return [
        (d.id, d.user_id, d.status)
        for d in ctx.repos.runs.deliveries(run)
        if d.status in ("pending", "sending")
    ]


def _prompt_card(ctx: Any, run_id: int) -> Any:
    run = ctx.repos.runs.get(run_id)
    casus = ctx.repos.casussen.get(run.casus_id) if run.casus_id else None
    return reflection.prompt_card(ctx.texts, run, casus)


def _abandon(ctx: Any, run_id: int) -> None:
    """The channel refuses our post for good: close the run rather than retry forever."""
    from storage.models import RunStatus

    run = ctx.repos.runs.get(run_id)
    if run is not None:
        run.status = RunStatus.CLOSED
        run.recipients_listed = True


# --- module-level jobs (APScheduler calls these; their arguments are plain ids) --------------

_current: ReflectionScheduler | None = None


async def tick_job() -> None:
    scheduler = _current
    if scheduler is None:
        return
    try:
        await scheduler.tick()
    except Exception:
        log.exception("scheduler tick failed")


def now_utc() -> datetime:
    return datetime.now(UTC)


Clock = Callable[[], datetime]
