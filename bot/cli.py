"""The ``leerkring`` command line."""

from __future__ import annotations

import asyncio
import gc
import getpass
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from bot.cli_common import configure_logging, settings_or_exit

F = TypeVar("F", bound=Callable[..., Any])


def _friendly_errors(func: F) -> F:
    """Known failures become one line on stderr, not a stack trace."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from bot.services import SchemaOutdated
        from storage.db import DatabaseUnavailable

        try:
            return func(*args, **kwargs)
        except SchemaOutdated as exc:
            click.echo(f"leerkring: {exc}", err=True)
            raise SystemExit(2) from None
        except (DatabaseUnavailable, OSError) as exc:
            click.echo(f"leerkring: {type(exc).__name__}: {exc}", err=True)
            raise SystemExit(1) from None
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                click.echo(
                    "leerkring: DATABASE_URL: cannot reach the database "
                    f"({str(exc.orig).splitlines()[0] if exc.orig else exc})",
                    err=True,
                )
                raise SystemExit(1) from None
            raise

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(
    package_name="leerkring", prog_name="leerkring", message="%(prog)s %(version)s"
)
def main() -> None:
    """Leerkring: learning together from casussen, in Slack, Teams and the terminal.

    Settings come from environment variables; every one, with its default and limits, is in
    docs/operations.md."""


@main.command()
@_friendly_errors
def serve() -> None:
    """Run the server on PORT (default 3000) of LEERKRING_HOST (default 0.0.0.0).

    \b
    Endpoints:
      POST /slack/events   Slack's Request URL: commands, events, buttons and forms
                           (not served in Socket Mode, with SLACK_APP_TOKEN set)
      POST /api/messages   Microsoft Teams' messaging endpoint (with MICROSOFT_APP_ID,
                           or LEERKRING_TEAMS_EMULATOR=true on 127.0.0.1 only)
      GET  /healthz        up or not, for load balancers and health checks
      GET  /status         details for operators (with LEERKRING_STATUS_TOKEN)
      GET  /metrics        Prometheus, on a port of its own: LEERKRING_METRICS_PORT
                           (default 9464, 0: off) on 127.0.0.1

    Every setting (environment variables, with defaults and limits) is in docs/operations.md.
    """
    from bot import http_server
    from bot.server import build_app
    from bot.services import build_services, ensure_schema

    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    services = build_services(settings)
    if not settings.is_sqlite:
        ensure_schema(services.database)
    app = build_app(services)
    logging.getLogger("leerkring").info(
        "listening on %s:%s (database: %s)",
        settings.bind_host,
        settings.port,
        services.database.engine.dialect.name,
    )
    _tune_for_acks()
    http_server.run(app, settings.bind_host, settings.port)


def _tune_for_acks() -> None:
    """Two process settings for the ack path (measured under load, see README "How it is
    built"). The thread-reply writer takes the GIL back after every database call; with the
    default 5 ms switch interval a busy event loop made each of those wait up to 5 ms (a batch
    took 31-38 ms instead of 13-15). And the cyclic collector's full passes over everything
    start-up loaded (SQLAlchemy, bolt, the guard's tables) paused the loop for 80-450 ms;
    frozen, they take under 40 ms."""
    sys.setswitchinterval(0.0005)
    gc.collect()
    gc.freeze()


@main.command()
@click.option("--user", default=None, help="Your name in the chat (default: your login).")
@click.option("--channel", default="leerkring", show_default=True, help="The channel name.")
@_friendly_errors
def chat(user: str | None, channel: str) -> None:
    """A local channel in the terminal: bring in a casus, reply, close it."""
    from bot.services import build_services, ensure_schema, start_guard
    from bot.terminal.chat import TerminalChat
    from bot.terminal.messenger import TerminalMessenger

    settings = settings_or_exit()
    configure_logging("WARNING")
    services = build_services(settings)
    if not settings.is_sqlite:
        ensure_schema(services.database)
    start_guard(services.guard)
    name = user or _login_name()
    # The terminal is a local sandbox: whoever types is the facilitator of it, so /reflectie
    # can be tried out. Schedules fire while the chat runs (after every command).
    services.runtime.facilitators = services.runtime.facilitators | {name}
    terminal = TerminalChat(
        services.runtime,
        services.texts,
        user=name,
        channel=channel,
        stdin=sys.stdin,
        stdout=sys.stdout,
        color=sys.stdout.isatty() and "NO_COLOR" not in os.environ,
    )
    services.messengers.add(TerminalMessenger(terminal))
    if settings.scheduler:
        from bot.server import make_scheduler

        scheduler = make_scheduler(services)
        loop = asyncio.new_event_loop()

        def tick() -> None:
            loop.run_until_complete(scheduler.tick())

        terminal.after_command = tick
    try:
        terminal.run()
    except KeyboardInterrupt:
        click.echo()
    finally:
        services.close()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "ik"


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
@_friendly_errors
def upgrade() -> None:
    """Bring the database schema up to date (Alembic)."""
    from storage import migrate
    from storage.db import Database

    settings = settings_or_exit()
    database = Database.from_url(settings.database_url)
    try:
        migrate.upgrade(database.engine)
        click.echo(f"database schema at revision {migrate.current_revision(database.engine)}")
    finally:
        database.dispose()


@main.command("teams-package")
@click.option("--app-id", required=True, help="The bot's Microsoft app id (MICROSOFT_APP_ID).")
@click.option(
    "--out",
    default="leerkring-teams.zip",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the app package.",
)
@click.option(
    "--language",
    type=click.Choice(["nl", "en"]),
    default="nl",
    show_default=True,
    envvar="LEERKRING_LANGUAGE",
    help="Language of the descriptions in Teams.",
)
@click.option("--developer", default="Leerkring", show_default=True, help="Publisher name.")
@click.option(
    "--website-url",
    default="https://leerkring.example.org",
    show_default=True,
    help="Your organisation's website, shown in the app's details in Teams.",
)
@click.option(
    "--privacy-url",
    default="https://leerkring.example.org/privacy",
    show_default=True,
    help="Your privacy statement, linked from the app in Teams.",
)
@click.option(
    "--terms-url",
    default="https://leerkring.example.org/voorwaarden",
    show_default=True,
    help="Your terms of use, linked from the app in Teams.",
)
def teams_package(
    app_id: str,
    out: str,
    language: str,
    developer: str,
    website_url: str,
    privacy_url: str,
    terms_url: str,
) -> None:
    """Build the Teams app package (manifest.json and icons) to upload in Teams."""
    from pathlib import Path

    from bot.teams.package import Developer, build_package

    try:
        package = build_package(
            app_id.strip(),
            language=language,
            developer=Developer(developer, website_url, privacy_url, terms_url),
        )
    except ValueError as exc:
        click.echo(f"leerkring: {exc}", err=True)
        raise SystemExit(2) from None
    Path(out).write_bytes(package)
    click.echo(f"Teams app package written to {out}")


def _register_subcommands() -> None:
    from bot.cli_harvest import oogst
    from bot.cli_members import members
    from bot.cli_privacy import privacy
    from bot.cli_schedule import schedule

    main.add_command(schedule)
    main.add_command(oogst)
    main.add_command(members)
    main.add_command(privacy)


_register_subcommands()

if __name__ == "__main__":
    main()
