"""The aiohttp server: Slack's Request URL, health, and (later) Teams on one port."""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot import http_server
from bot.scheduler import Scheduler
from bot.services import Services, guard_state, start_guard, stop_guard
from bot.slack.adapter import SlackAdapter
from storage import migrate

if TYPE_CHECKING:
    from bot.teams.adapter import TeamsAdapter

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
SLACK: web.AppKey[SlackAdapter | None] = web.AppKey("slack", SlackAdapter)  # type: ignore[arg-type]
TEAMS: web.AppKey[TeamsAdapter | None] = web.AppKey("teams")
SCHEDULER: web.AppKey[Scheduler | None] = web.AppKey(
    "scheduler",
    Scheduler,  # type: ignore[arg-type]
)
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; anything larger is refused


def build_app(services: Services) -> web.Application:
    settings = services.settings
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[
            services.metrics.middleware(),
            http_server.body_timeout(settings.body_timeout_seconds),
        ],
        handler_args={"keepalive_timeout": settings.header_timeout_seconds},
    )
    app.on_response_prepare.append(http_server.name_server)
    app[SERVICES] = services
    slack: SlackAdapter | None = None
    if settings.slack_enabled:
        assert services.slack_client is not None
        slack = SlackAdapter(settings, services.runtime, services.texts, services.slack_client)
        if not settings.slack_socket_mode:
            app.router.add_post("/slack/events", _slack_events)
    else:
        log.info("Slack is off: no SLACK_BOT_TOKEN set")
    app[SLACK] = slack
    app[TEAMS] = _teams(services)
    if app[TEAMS] is not None:
        app.router.add_post("/api/messages", _teams_messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/status", _status)
    app.cleanup_ctx.append(_lifecycle)
    return app


async def _lifecycle(app: web.Application) -> Any:
    services = app[SERVICES]
    settings = services.settings
    metrics_runner = None
    if settings.metrics_enabled:
        metrics_runner = await services.metrics.serve(settings.metrics_host, settings.metrics_port)
    # Loads in a worker process of its own: no request waits for it unless it checks text.
    start_guard(services.guard, services.metrics)
    slack = app[SLACK]
    socket_handler = None
    if slack is not None and services.settings.slack_socket_mode:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        token = services.settings.slack_app_token
        assert token is not None
        socket_handler = AsyncSocketModeHandler(slack.app, token.get_secret_value())
        await socket_handler.connect_async()
        log.info("Slack connected in Socket Mode")
    elif slack is not None:
        log.info("Slack listening over HTTP at POST /slack/events")
    if slack is not None and services.settings.scheduler:
        # Only scheduled sends stop for a revoked workspace; the process that runs them checks.
        await slack.resume_if_reinstalled()
    scheduler = None
    if services.settings.scheduler:
        scheduler = make_scheduler(services)
        scheduler.start()
    app[SCHEDULER] = scheduler
    yield
    if scheduler is not None:
        await scheduler.stop()
    if socket_handler is not None:
        await socket_handler.close_async()
    if slack is not None:
        await slack.close()
    await services.runtime.close()
    stop_guard(services.guard)
    services.close()
    if metrics_runner is not None:
        await metrics_runner.cleanup()


def _teams(services: Services) -> TeamsAdapter | None:
    settings = services.settings
    if not settings.teams_enabled:
        log.info("Teams is off: no MICROSOFT_APP_ID set")
        return None
    from bot.teams.adapter import make_teams_adapter

    if settings.microsoft_app_id is None:
        log.warning(
            "Teams emulator mode: requests at POST /api/messages are NOT authenticated; "
            "listening on 127.0.0.1 only%s",
            f" (LEERKRING_HOST={settings.host} ignored)" if settings.host != "127.0.0.1" else "",
        )
    else:
        log.info("Teams listening at POST /api/messages")
    return make_teams_adapter(services)


async def _teams_messages(request: web.Request) -> web.Response:
    teams = request.app[TEAMS]
    assert teams is not None
    return await teams.handle_http(request)


async def _slack_events(request: web.Request) -> web.Response:
    slack = request.app[SLACK]
    assert slack is not None
    return await slack.handle_http(request)


async def _healthz(request: web.Request) -> web.Response:
    """For load balancers and container health checks, unauthenticated: up or not, no more."""
    ok, _ = await _database_state(request.app[SERVICES])
    body = {"status": "ok" if ok else "unavailable"}
    return web.json_response(body, status=200 if ok else 503)


async def _status(request: web.Request) -> web.Response:
    """For operators, with ``Authorization: Bearer $LEERKRING_STATUS_TOKEN``: what /healthz
    keeps to itself. Without a token configured there is no such page."""
    services = request.app[SERVICES]
    settings = services.settings
    expected = settings.status_token
    if expected is None:
        raise web.HTTPNotFound()
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected.get_secret_value()}".encode()):
        return web.json_response({"error": "unauthorized"}, status=401)
    ok, detail = await _database_state(services)
    revision = None
    if ok:
        try:
            revision = await asyncio.to_thread(migrate.current_revision, services.database.engine)
        except Exception as exc:
            ok, detail = False, type(exc).__name__
    slack_mode = "off"
    if settings.slack_enabled:
        slack_mode = "socket" if settings.slack_socket_mode else "http"
    teams_mode = "off"
    if settings.teams_enabled:
        teams_mode = "on" if settings.microsoft_app_id else "emulator"
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {
            "ok": ok,
            "detail": detail,
            "backend": services.database.engine.dialect.name,
            "schema": revision,
        },
        "slack": slack_mode,
        "teams": teams_mode,
        "privacy_guard": guard_state(services),
    }
    return web.json_response(body, status=200 if ok else 503)


async def _database_state(services: Services) -> tuple[bool, str]:
    return await asyncio.to_thread(services.database.ping)


def make_scheduler(services: Services) -> Scheduler:
    settings = services.settings
    weeks = settings.casus_followup_weeks
    # The features' own settings, read by their steps (engine.option).
    return Scheduler(
        services.runtime,
        services.messengers,
        tick_seconds=settings.tick_seconds,
        grace=timedelta(minutes=settings.schedule_grace_minutes),
        followup_after=timedelta(weeks=weeks) if weeks else None,
        retention_months=settings.retention_months,
        metrics=services.metrics,
        praktijk_followup_after=timedelta(weeks=settings.praktijk_followup_weeks)
        if settings.praktijk_followup_weeks
        else None,
    )
