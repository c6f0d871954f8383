"""The composition root: builds the object graph once from validated settings."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import keep_payloads_out_of_logs
from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.core.messaging import Messengers
from handlers.core.router import Router
from handlers.features import build_router
from handlers.privacy.guard import PrivacyGuard, StructuredGuard
from prompts import Texts, load_texts
from storage import migrate
from storage.db import Database

if TYPE_CHECKING:
    from bot.teams.messenger import TeamsMessenger

log = logging.getLogger(__name__)


class SchemaOutdated(Exception):
    pass


@dataclass
class Services:
    settings: Settings
    database: Database
    texts: Texts
    guard: PrivacyGuard
    router: Router
    runtime: Runtime
    messengers: Messengers
    slack_client: AsyncWebClient | None = None
    teams_messenger: TeamsMessenger | None = None
    metrics: Metrics = field(default_factory=Metrics)

    def close(self) -> None:
        stop_guard(self.guard)
        self.database.dispose()


def build_services(settings: Settings, *, migrate_sqlite: bool = True) -> Services:
    keep_payloads_out_of_logs()
    database = Database.from_url(settings.database_url)
    if settings.is_sqlite and migrate_sqlite:
        migrate.upgrade(database.engine)
    texts = load_texts(settings.language)
    guard = make_guard(settings)
    router = build_router()
    secret = settings.hmac_secret.get_secret_value().encode() if settings.hmac_secret else None
    runtime = Runtime(
        database,
        router,
        texts,
        guard,
        facilitators=frozenset(settings.facilitators),
        hmac_secret=secret,
    )
    messengers = Messengers()
    slack_client = None
    if settings.slack_enabled:
        from bot.slack.adapter import make_slack_client
        from bot.slack.messenger import DirectChannelStore, SlackMessenger

        slack_client = make_slack_client(settings)
        messengers.add(SlackMessenger(slack_client, texts, DirectChannelStore(database)))
    teams_messenger = None
    if settings.teams_enabled:
        from bot.teams.messenger import make_teams_messenger

        teams_messenger = make_teams_messenger(settings, runtime, texts)
        messengers.add(teams_messenger)
    services = Services(
        settings,
        database,
        texts,
        guard,
        router,
        runtime,
        messengers,
        slack_client,
        teams_messenger=teams_messenger,
    )
    # Read when scraped: a guard swapped later (tests, a restart) is the one reported.
    services.metrics = Metrics(guard_state=lambda: guard_state(services), database=database)
    runtime.metrics = services.metrics
    return services


def guard_state(services: Services) -> str:
    """``basic`` (structured identifiers only), or the strict guard's ``loading``/``ready``.
    While it loads the server is healthy: a submission waits for it (within
    LEERKRING_PRIVACY_WAIT_SECONDS) and is never checked by less than was configured."""
    if services.settings.privacy_guard == "basic":
        return "basic"
    return "ready" if getattr(services.guard, "ready", False) else "loading"


def make_guard(settings: Settings) -> PrivacyGuard:
    """The guard for LEERKRING_PRIVACY_GUARD. The strict one loads in the background once the
    server starts (``start_guard``); a submission waits for it, within a bound."""
    if settings.privacy_guard == "basic":
        return StructuredGuard()
    from handlers.privacy.deduce import DeduceGuard

    return DeduceGuard(wait_seconds=settings.privacy_wait_seconds)


def start_guard(guard: PrivacyGuard, metrics: Metrics | None = None) -> None:
    """Start loading a guard that loads (the strict one), and say so in our own words, with
    the seconds it took once it is ready."""
    start = getattr(guard, "start", None)
    if not callable(start):
        return
    start()
    wait_ready = getattr(guard, "wait_ready", None)
    if not callable(wait_ready):
        return
    log.info(
        "privacy guard (strict) loading in a worker process: a few seconds and about 180 MB; "
        "longer on a first start without `leerkring privacy prepare-guard`. Submissions wait "
        "for it. LEERKRING_PRIVACY_GUARD=basic (identifiers only) suits small machines"
    )
    started = time.monotonic()

    def announce() -> None:
        # Polls so that a guard stopped while loading lets this thread end with it.
        while getattr(guard, "worker_pid", True) is not None:
            if wait_ready(5):
                seconds = time.monotonic() - started
                if metrics is not None:
                    metrics.guard_load_seconds.set(seconds)
                log.info("privacy guard (strict) ready after %.1f s", seconds)
                return

    threading.Thread(target=announce, name="guard-announce", daemon=True).start()


def stop_guard(guard: PrivacyGuard) -> None:
    stop = getattr(guard, "stop", None)
    if callable(stop):
        stop()


def ensure_schema(database: Database) -> None:
    """Outside SQLite the schema is upgraded by an operator: `leerkring db upgrade`."""
    if not migrate.is_up_to_date(database.engine):
        raise SchemaOutdated(
            "DATABASE_URL: the database schema is not up to date; run `leerkring db upgrade`"
        )
