"""What every ``leerkring`` subcommand shares: logging, settings and the services."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from bot.logs import PAYLOAD_LOGGERS, JsonLines, PayloadFilter
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.services import Services


def configure_logging(level: str, log_format: str = "text") -> None:
    """Logging to stderr: readable lines, or JSON lines (``LEERKRING_LOG_FORMAT=json``)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PayloadFilter())
    logging.basicConfig(level=getattr(logging, level), handlers=[handler])
    # The Slack and Teams SDKs log request bodies at DEBUG; keep people's text out of logs at
    # any level (bot/logs.py).
    for sdk in PAYLOAD_LOGGERS:
        logging.getLogger(sdk).setLevel(max(logging.INFO, getattr(logging, level)))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every tick at INFO; only its warnings and errors matter to operators.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(f"leerkring: invalid setting {exc}", err=True)
        raise SystemExit(2) from None


def open_services() -> Services:
    """The services for a one-off command: settings from the environment, quiet logging, and a
    PostgreSQL schema that must already be up to date (SQLite is migrated on open)."""
    from bot.services import build_services, ensure_schema

    settings = settings_or_exit()
    configure_logging("WARNING", settings.log_format)
    services = build_services(settings)
    if not settings.is_sqlite:
        ensure_schema(services.database)
    return services
