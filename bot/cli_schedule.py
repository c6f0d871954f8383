"""`leerkring schedule …`: manage reflection and speedspar schedules from the command line.

`run <id>` fires a schedule now through the same path as the timer (a run with a unique key,
recipients recorded, paced fan-out).
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from bot.cli_common import open_services
from handlers.core.registry import FireResult
from handlers.core.schedules import RuleError, next_fire
from handlers.reflection.chat import (
    NewSchedule,
    create_schedule,
    describe_rule,
    local_time,
)
from handlers.reflection.engine import fire_now
from handlers.speedsparren import common as speedspar_common
from handlers.speedsparren import planning as speedspar_planning


def _get(ctx: Any, schedule_id: int) -> Any:
    schedule = ctx.repos.schedules.get(schedule_id)
    if schedule is None:
        raise click.ClickException(f"schedule {schedule_id} does not exist")
    return schedule


@click.group()
def schedule() -> None:
    """Reflection and speedspar schedules: list, add, pause, resume, delete, run."""


@schedule.command("list")
def list_schedules() -> None:
    """All schedules, with their rule in words and the next time."""
    services = open_services()

    def rows(ctx: Any) -> list[str]:
        out = []
        for item in ctx.repos.schedules.all():
            state = "paused" if item.paused else "active"
            nxt = local_time(item.next_fire_at, item.timezone) if item.next_fire_at else "-"
            if item.kind == speedspar_common.SCHEDULE_KIND:
                how = speedspar_planning.schedule_details(ctx.texts, item)
            else:
                how = f"{item.delivery}{' private' if item.private else ''}"
            out.append(
                f"#{item.id}\t{item.channel.platform}:{item.channel.platform_channel_id}\t"
                f"{item.kind}\t{describe_rule(item.cron, ctx.texts)} ({item.cron})\t"
                f"{how}\t{state}\tnext {nxt}"
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
    help="A deck in prompts/<lang>/reflectie.toml, or speedsparren.",
)
@click.option("--when", "rule", required=True, help='e.g. "vrijdag 15:00" or "0 15 * * fri".')
@click.option(
    "--delivery", default="channel", show_default=True, type=click.Choice(["channel", "dm"])
)
@click.option("--private", is_flag=True, help="Answers only for facilitators.")
@click.option("--on-holidays", is_flag=True, help="Also send on Dutch public holidays.")
@click.option("--window-hours", default=48, show_default=True, type=int)
@click.option("--rounds", type=int, help="speedsparren: rounds, 1-8 (default 3).")
@click.option("--minutes", type=int, help="speedsparren: minutes per round, 2-30 (default 6).")
@click.option("--deck", help="speedsparren: question deck (default succesvragen).")
@click.option(
    "--signup-minutes",
    type=int,
    help="speedsparren: minutes from the announcement to the first round, 2-240 (default 10).",
)
@click.option(
    "--facilitator",
    help="speedsparren: user id of the facilitator who planned it (told when it cannot start).",
)
@click.option(
    "--fill-odd-seat", is_flag=True, help="speedsparren: --facilitator fills an odd seat."
)
def add(channel: str, platform: str, kind: str, rule: str, delivery: str, private: bool,
        on_holidays: bool, window_hours: int, rounds: int | None, minutes: int | None,
        deck: str | None, signup_minutes: int | None, facilitator: str | None,
        fill_odd_seat: bool) -> None:  # fmt: skip
    """Add a schedule to a channel. With --kind speedsparren it starts a speedspar session:
    the announcement goes out at the scheduled time and the first round starts later."""
    options = {"--rounds": rounds, "--minutes": minutes, "--deck": deck,
               "--signup-minutes": signup_minutes, "--facilitator": facilitator,
               "--fill-odd-seat": fill_odd_seat or None}  # fmt: skip
    given = [name for name, value in options.items() if value is not None]
    speedspar = kind == speedspar_common.SCHEDULE_KIND
    if given and not speedspar:
        raise click.ClickException(f"{', '.join(given)}: only with --kind speedsparren")
    services = open_services()

    def create(ctx: Any) -> str:
        place = ctx.repos.channels.ensure(platform, channel)
        if speedspar:
            plan = speedspar_planning.NewSchedule(
                rule,
                rounds=speedspar_common.DEFAULT_ROUNDS if rounds is None else rounds,
                minutes=speedspar_common.DEFAULT_MINUTES if minutes is None else minutes,
                deck=deck or speedspar_common.DEFAULT_DECK,
                signup_minutes=(
                    speedspar_common.DEFAULT_SIGNUP if signup_minutes is None else signup_minutes
                ),
                facilitator_fills=fill_odd_seat,
                skip_holidays=not on_holidays,
            )
            person = ctx.repos.members.ensure(platform, facilitator) if facilitator else None
            item = speedspar_planning.create_schedule(ctx, place, plan, person)
            what = f"speedsparren ({speedspar_planning.schedule_details(ctx.texts, item)})"
        else:
            spec = NewSchedule(kind, rule, delivery, private, not on_holidays, window_hours)
            item = create_schedule(ctx, place, spec, None)
            what = item.kind
        return (
            f"schedule #{item.id}: {what}, {describe_rule(item.cron, ctx.texts)}; "
            f"next {local_time(item.next_fire_at, item.timezone) if item.next_fire_at else '-'}"
        )

    try:
        click.echo(services.runtime.call_sync(create))
    except speedspar_planning.PlanError as exc:
        raise click.ClickException("\n".join(exc.errors.values())) from None
    except RuleError as exc:
        raise click.ClickException(
            f'{exc}. Examples: "vrijdag 15:00", "werkdagen 16:00", "0 15 * * fri"'
        ) from None
    finally:
        services.close()


def _set_paused(schedule_id: int, paused: bool) -> None:
    services = open_services()

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
    services = open_services()
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

    services = open_services()
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

    async def go() -> FireResult:
        scheduler = make_scheduler(services)
        try:
            return await fire_now(scheduler, schedule_id)
        finally:
            await asyncio.to_thread(scheduler.leadership.release)

    try:
        result = asyncio.run(go())
    finally:
        services.close()
    if result.run_id is not None:
        click.echo(f"schedule #{schedule_id}: sent as run #{result.run_id}")
    elif result.started_id is not None:
        click.echo(
            f"schedule #{schedule_id}: speedsparren announced as session #{result.started_id}"
        )
    elif result.skipped == "busy":
        click.echo(
            f"schedule #{schedule_id}: not started; a speedspar session is still going in "
            "that channel"
        )
    else:
        click.echo(f"schedule #{schedule_id}: not sent ({result.skipped})")
