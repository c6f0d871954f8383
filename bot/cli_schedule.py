"""`leerkring schedule …`: manage reflection schedules from the command line.

`run <id>` fires a schedule now through the same path as the timer (a run with a unique key,
recipients recorded, paced fan-out).
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from bot.services import Services
from handlers.reflection import NewSchedule, create_schedule, describe_rule, local_time
from handlers.schedules import RuleError, next_fire


def _services() -> Services:
    from bot.cli import _configure_logging, _settings_or_exit
    from bot.services import build_services, ensure_schema

    settings = _settings_or_exit()
    _configure_logging("WARNING")
    services = build_services(settings)
    if not settings.is_sqlite:
        ensure_schema(services.database)
    return services


def _get(ctx: Any, schedule_id: int) -> Any:
    schedule = ctx.repos.schedules.get(schedule_id)
    if schedule is None:
        raise click.ClickException(f"schedule {schedule_id} does not exist")
    return schedule


@click.group()
def schedule() -> None:
    """Reflection schedules: list, add, pause, resume, delete, run."""


@schedule.command("list")
def list_schedules() -> None:
    """All schedules, with their rule in words and the next time."""
    services = _services()

    def rows(ctx: Any) -> list[str]:
        out = []
        for item in ctx.repos.schedules.all():
            state = "paused" if item.paused else "active"
            nxt = local_time(item.next_fire_at, item.timezone) if item.next_fire_at else "-"
            out.append(
                f"#{item.id}\t{item.channel.platform}:{item.channel.platform_channel_id}\t"
                f"{item.kind}\t{describe_rule(item.cron, ctx.texts)} ({item.cron})\t"
                f"{item.delivery}{' private' if item.private else ''}\t{state}\tnext {nxt}"
            )
        return out

    try:
        lines = services.runtime.call_sync(rows)
    finally:
        services.close()
    click.echo("\n".join(lines) if lines else "no schedules")


@schedule.command("add")
@click.option("--channel", required=True, help="Channel id on the platform, e.g. C0123ABC.")
@click.option(
    "--platform",
    default="slack",
    show_default=True,
    type=click.Choice(["slack", "teams", "terminal"]),
)
@click.option(
    "--kind",
    default="wat-ging-goed",
    show_default=True,
    help="A deck in prompts/<lang>/reflectie.toml.",
)
@click.option("--when", "rule", required=True, help='e.g. "vrijdag 15:00" or "0 15 * * fri".')
@click.option(
    "--delivery", default="channel", show_default=True, type=click.Choice(["channel", "dm"])
)
@click.option("--private", is_flag=True, help="Answers only for facilitators.")
@click.option("--on-holidays", is_flag=True, help="Also send on Dutch public holidays.")
@click.option("--window-hours", default=48, show_default=True, type=int)
def add(channel: str, platform: str, kind: str, rule: str, delivery: str, private: bool,
        on_holidays: bool, window_hours: int) -> None:  # fmt: skip
    """Add a schedule to a channel."""
    services = _services()
    spec = NewSchedule(kind, rule, delivery, private, not on_holidays, window_hours)

    def create(ctx: Any) -> str:
        place = ctx.repos.channels.ensure(platform, channel)
        item = create_schedule(ctx, place, spec, None)
        return (
            f"schedule #{item.id}: {item.kind}, {describe_rule(item.cron, ctx.texts)}; "
            f"next {local_time(item.next_fire_at, item.timezone)}"
        )

    try:
        click.echo(services.runtime.call_sync(create))
    except RuleError as exc:
        raise click.ClickException(
            f'{exc}. Examples: "vrijdag 15:00", "werkdagen 16:00", "0 15 * * fri"'
        ) from None
    finally:
        services.close()


def _set_paused(schedule_id: int, paused: bool) -> None:
    services = _services()

    def change(ctx: Any) -> str:
        item = _get(ctx, schedule_id)
        item.paused = paused
        if not paused:
            item.next_fire_at = next_fire(item.cron, item.timezone, ctx.now())
            return (
                f"schedule #{item.id} resumed; next {local_time(item.next_fire_at, item.timezone)}"
            )
        return f"schedule #{item.id} paused"

    try:
        click.echo(services.runtime.call_sync(change))
    finally:
        services.close()


@schedule.command()
@click.argument("schedule_id", type=int)
def pause(schedule_id: int) -> None:
    """Pause a schedule."""
    _set_paused(schedule_id, True)


@schedule.command()
@click.argument("schedule_id", type=int)
def resume(schedule_id: int) -> None:
    """Resume a paused schedule."""
    _set_paused(schedule_id, False)


@schedule.command()
@click.argument("schedule_id", type=int)
def delete(schedule_id: int) -> None:
    """Delete a schedule (earlier answers are kept)."""
    services = _services()
    try:
        services.runtime.call_sync(lambda ctx: ctx.repos.schedules.delete(_get(ctx, schedule_id)))
    finally:
        services.close()
    click.echo(f"schedule #{schedule_id} deleted")


@schedule.command()
@click.argument("schedule_id", type=int)
def run(schedule_id: int) -> None:
    """Send a schedule now, through the same path as the timer."""
    from bot.server import make_scheduler

    services = _services()
    try:
        platform = services.runtime.call_sync(lambda ctx: _get(ctx, schedule_id).channel.platform)
    except click.ClickException:
        services.close()
        raise
    if platform not in services.messengers:
        services.close()
        raise click.ClickException(
            f"schedule {schedule_id} is for {platform}, which is not configured here "
            "(e.g. SLACK_BOT_TOKEN); nothing was sent"
        )

    async def go() -> int | None:
        scheduler = make_scheduler(services)
        try:
            return await scheduler.fire_now(schedule_id)
        finally:
            await asyncio.to_thread(scheduler.leadership.release)

    try:
        run_id = asyncio.run(go())
    finally:
        services.close()
    if run_id is None:
        click.echo(f"schedule #{schedule_id}: not sent (channel paused or holiday)")
    else:
        click.echo(f"schedule #{schedule_id}: sent as run #{run_id}")
