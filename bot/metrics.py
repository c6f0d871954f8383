"""Prometheus metrics for operators, served at ``GET /metrics`` on a port of their own.

``LEERKRING_METRICS_PORT`` (default 9464, 0: off) on ``LEERKRING_METRICS_HOST`` (default
127.0.0.1): the page is not reachable from outside unless the operator says so, and never on
the port that Slack and Teams reach. Each process has its own registry and its own page, so a
replica reports what it did itself (Prometheus tells them apart by their ``instance``).

No label carries personal data: routes are the router's templates (``/slack/events``), never
the path asked for; events are named by their type; outboxes by their declared name. What
people typed never reaches a metric.

Counted as it happens (HTTP requests, ack latency, events, guard checks, scheduler ticks), or
read when scraped (the guard's state, the outbox rows by state: a few ``COUNT`` queries on the
database, so every replica shows the same rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from handlers.core.guard import Finding, GuardNotReady, PrivacyGuard
from storage import claims
from storage.db import Database

log = logging.getLogger(__name__)

# The platform endpoints whose answer is the acknowledgement Slack and Teams wait for.
ACK_ROUTES: Mapping[str, str] = {"/slack/events": "slack", "/api/messages": "teams"}
# Slack redelivers after 3 s; the buckets are dense below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
GUARD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
TICK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
GUARD_STATES = ("basic", "loading", "ready")
# An outbox row's state column (storage/claims.py) holds one of these; ``posting`` is the
# ``sending`` of a channel post.
OUTBOX_STATES: Mapping[str, str] = {
    "pending": "pending",
    "sending": "sending",
    "posting": "sending",
    "sent": "sent",
    "failed": "failed",
}
UNMATCHED = "unmatched"
# A client picks the method; any other is counted as "other", so no client can add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The metrics of one process. ``guard_state`` and ``database`` are read at scrape time."""

    def __init__(
        self,
        guard_state: Callable[[], str] | None = None,
        database: Database | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.requests = Counter(
            "leerkring_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "leerkring_ack_seconds",
            "Time to answer Slack's or Teams' HTTP request (the acknowledgement), in seconds.",
            ["platform"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.events = Counter(
            "leerkring_events",
            "Events handled: stored (one committed unit of work), duplicate (a redelivery, "
            "counted once), database_unavailable or error (nothing written).",
            ["kind", "outcome"],
            registry=r,
        )
        self.guard_seconds = Histogram(
            "leerkring_privacy_guard_check_seconds",
            "Time for one privacy guard check, by result (checked, not_ready, error).",
            ["result"],
            buckets=GUARD_BUCKETS,
            registry=r,
        )
        self.guard_load_seconds = Gauge(
            "leerkring_privacy_guard_load_seconds",
            "How long the strict privacy guard took to load in this process (0: not loaded).",
            registry=r,
        )
        self.tick_seconds = Histogram(
            "leerkring_scheduler_tick_seconds",
            "Duration of a scheduler tick that ran the steps (on the leader), in seconds.",
            buckets=TICK_BUCKETS,
            registry=r,
        )
        self.tick_failures = Counter(
            "leerkring_scheduler_tick_failures",
            "Scheduler ticks that ended in an error.",
            registry=r,
        )
        self.leader = Gauge(
            "leerkring_scheduler_leader",
            "1 when this process runs the scheduler's steps (the leader), else 0.",
            registry=r,
        )
        if guard_state is not None:
            r.register(_GuardStateCollector(guard_state))
        if database is not None:
            r.register(OutboxCollector(database))

    # --- what the server, the runtime and the scheduler call ---

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        platform = ACK_ROUTES.get(route)
        if platform is not None:
            self.ack_seconds.labels(platform).observe(seconds)

    def count_event(self, kind: str, duplicate: bool, failure: str | None) -> None:
        if duplicate:
            outcome = "duplicate"
        elif failure == "database":
            outcome = "database_unavailable"
        elif failure is not None:
            outcome = "error"
        else:
            outcome = "stored"
        self.events.labels(kind, outcome).inc()

    def measure_guard(self, guard: PrivacyGuard) -> PrivacyGuard:
        return guard if isinstance(guard, MeasuredGuard) else MeasuredGuard(guard, self)

    @contextlib.contextmanager
    def tick(self) -> Iterator[Callable[[bool], None]]:
        """Around one tick: call the yielded function with whether this process led it."""
        started = time.perf_counter()
        led: list[bool] = []
        try:
            yield led.append
        except BaseException:
            self.tick_failures.inc()
            raise
        finally:
            if led:
                self.leader.set(1 if led[-1] else 0)
                if led[-1]:
                    self.tick_seconds.observe(time.perf_counter() - started)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # --- the HTTP side ---

    def middleware(self) -> Middleware:
        """Outermost: counts every answer the app gives, a 408 or a 404 too."""

        @web.middleware
        async def measure(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                self.observe_request(
                    route_template(request),
                    request.method,
                    status,
                    time.perf_counter() - started,
                )

        return measure

    async def serve(self, host: str, port: int) -> web.AppRunner | None:
        """``GET /metrics`` on ``host:port``. A port that cannot be had is logged and the
        server runs on without metrics: they never take the bot down."""
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            log.error(
                "metrics NOT served: cannot listen on %s:%s (%s); set LEERKRING_METRICS_PORT "
                "to a free port (each process on one host needs its own), or 0 to turn them off",
                host,
                port,
                exc.strerror or type(exc).__name__,
            )
            return None
        log.info("metrics at http://%s:%s/metrics", host, port)
        return runner

    async def _handle(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(self.exposition)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def route_template(request: web.Request) -> str:
    """The route's template (``/slack/events``), never the path itself: a path may carry
    anything a client put in it."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED
    return resource.canonical


class MeasuredGuard:
    """A privacy guard whose checks are timed; everything else is the guard's own."""

    def __init__(self, guard: PrivacyGuard, metrics: Metrics) -> None:
        self._guard = guard
        self._metrics = metrics

    @property
    def finds_names(self) -> bool:
        return bool(getattr(self._guard, "finds_names", False))

    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        started = time.perf_counter()
        result = "error"
        try:
            findings = self._guard.check(fields)
            result = "checked"
            return findings
        except GuardNotReady:
            result = "not_ready"
            raise
        finally:
            self._metrics.guard_seconds.labels(result).observe(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._guard, name)


class _GuardStateCollector(Collector):
    def __init__(self, state: Callable[[], str]) -> None:
        self._state = state

    def describe(self) -> list[GaugeMetricFamily]:
        return [self._family()]

    def collect(self) -> list[GaugeMetricFamily]:
        family = self._family()
        current = self._state()
        for state in GUARD_STATES:
            family.add_metric([state], 1 if state == current else 0)
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "leerkring_privacy_guard_state",
            "The privacy guard: basic (identifiers only), or the strict guard loading or ready; "
            "1 for the current state.",
            labels=["state"],
        )


class OutboxCollector(Collector):
    """Outgoing rows by state, counted in the database when scraped: every outbox declared
    with a state column (``storage.claims.Outbox``; its column name ends in ``status``)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def describe(self) -> list[GaugeMetricFamily]:
        return [self._family()]

    def collect(self) -> list[GaugeMetricFamily]:
        family = self._family()
        try:
            counts = self.counts()
        except Exception as exc:
            log.warning("metrics: outbox rows not counted (%s)", type(exc).__name__)
            return []
        for (name, state), count in sorted(counts.items()):
            family.add_metric([name, state], count)
        return [family]

    def counts(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        outboxes = state_outboxes()
        with self._database.engine.connect() as connection:
            for outbox in outboxes:
                for state in set(OUTBOX_STATES.values()):
                    counts[(outbox.name, state)] = 0
                column = getattr(outbox.model, outbox.status)
                query = (
                    select(column, func.count())
                    .where(column.in_(list(OUTBOX_STATES)))
                    .group_by(column)
                )
                for row in connection.execute(query):
                    value, count = str(row[0]), int(row[1])
                    counts[(outbox.name, OUTBOX_STATES[value])] += count
        return counts

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "leerkring_outbox_rows",
            "Outgoing messages (DMs, reminders, summaries, welcomes) by outbox and state: "
            "pending, sending, sent, failed. Every replica counts the same rows.",
            labels=["outbox", "state"],
        )


def state_outboxes() -> list[claims.Outbox]:
    """The declared outboxes that keep a state (pending/sending/sent/failed) in a column of
    their own, each once."""
    seen: dict[str, claims.Outbox] = {}
    for outbox in claims.declared():
        if outbox.status.endswith("status"):
            seen.setdefault(outbox.name, outbox)
    return list(seen.values())
