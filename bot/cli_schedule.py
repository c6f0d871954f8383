"""`leerkring schedule …`: manage schedules from the command line: the reflection decks, and
the kinds that features declare (their options come from the kind, e.g. speedsparren's).

`run <id>` fires a schedule now through the same path as the timer (a run with a unique key,
recipients recorded, paced fan-out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import click

from bot.cli_common import open_services
from handlers.core.registry import FireResult, KindOption, ScheduleError, ScheduleKind
from handlers.core.schedules import RuleError, next_fire
from handlers.reflection.chat import (
    NewSchedule,
    create_schedule,
    describe_rule,
    local_time,
)
from handlers.reflection.engine import fire_now


def _get(ctx: Any, schedule_id: int) -> Any:
    schedule = ctx.repos.schedules.get(schedule_id)
    if schedule is None:
        raise click.ClickException(f"schedule {schedule_id} does not exist")
    return schedule


@click.group()
def schedule() -> None:
    """Schedules (reflection decks and feature kinds): list, add, pause, resume, delete, run."""


@schedule.command("list")
def list_schedules() -> None:
    """All schedules, with their rule in words and the next time."""
    services = open_services()

    def rows(ctx: Any) -> list[str]:
        out = []
        for item in ctx.repos.schedules.all():
            state = "paused" if item.paused else "active"
            nxt = local_time(item.next_fire_at, item.timezone) if item.next_fire_at else "-"
            if (feature := ctx.registry.schedule_kinds.get(item.kind)) is not None:
                how = feature.details(ctx.texts, item)
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


def _kinds() -> dict[str, ScheduleKind]:
    """The schedule kinds the features declare, beside the reflection decks."""
    from handlers.features import build_router

    return dict(build_router().registry.schedule_kinds)


def _with_kind_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--<name>`` for every option a schedule kind declares (one option when kinds share a
    name); the values reach ``add`` in ``kind_values``."""
    seen: dict[str, tuple[KindOption, list[str]]] = {}
    for kind in _kinds().values():
        for option in kind.options:
            seen.setdefault(option.name, (option, []))[1].append(kind.key)
    for name, (option, keys) in reversed(list(seen.items())):
        flag = f"--{name}"
        help_text = f"{', '.join(keys)}: {option.help}"
        dest = f"kind__{name.replace('-', '_')}"
        if option.type == "flag":
            command = click.option(flag, dest, is_flag=True, default=None, help=help_text)(command)
        else:
            kind_type = int if option.type == "int" else str
            command = click.option(flag, dest, type=kind_type, help=help_text)(command)
    return command


@schedule.command("add")
@click.option("--channel", required=True, help="Channel id on the platform, e.g. C0123ABC.")
@click.option(
    "--platform",
    default="slack",
    show_default=True,
    type=click.Choice(["slack", "teams", "terminal"]),
    help="The platform the channel is on.",
)
@click.option(
    "--kind",
    default="wat-ging-goed",
    show_default=True,
    help="A deck in prompts/<lang>/reflectie.toml, or a schedule kind a feature adds: "
    + ", ".join(_kinds()),
)
@click.option("--when", "rule", required=True, help='e.g. "vrijdag 15:00" or "0 15 * * fri".')
@click.option(
    "--delivery",
    default="channel",
    show_default=True,
    type=click.Choice(["channel", "dm"]),
    help="Reflection decks: post in the channel, or send each member a direct message.",
)
@click.option("--private", is_flag=True, help="Answers only for facilitators.")
@click.option("--on-holidays", is_flag=True, help="Also send on Dutch public holidays.")
@click.option(
    "--window-hours",
    default=48,
    show_default=True,
    type=int,
    help="Reflection decks: how many hours people have to answer.",
)
@click.option(
    "--facilitator",
    help="User id of the facilitator who planned it (told when it cannot start).",
)
@_with_kind_options
def add(channel: str, platform: str, kind: str, rule: str, delivery: str, private: bool,
        on_holidays: bool, window_hours: int, facilitator: str | None,
        **kind_values: Any) -> None:  # fmt: skip
    """Add a schedule to a channel: a reflection deck, or a kind a feature adds (with
    --kind speedsparren it starts a speedspar session: the announcement goes out at the
    scheduled time and the first round starts later)."""
    feature = _kinds().get(kind)
    values = {
        name.removeprefix("kind__").replace("_", "-"): value for name, value in kind_values.items()
    }
    own = {option.name for option in feature.options} if feature else set()
    foreign = [f"--{name}" for name, value in values.items() if value is not None]
    foreign = [flag for flag in foreign if flag[2:] not in own]
    if facilitator is not None and feature is None:
        foreign.append("--facilitator")
    if foreign:
        owners = [key for key, k in _kinds().items() if k.options]
        raise click.ClickException(f"{', '.join(foreign)}: only with --kind {' or '.join(owners)}")
    services = open_services()

    def create(ctx: Any) -> str:
        place = ctx.repos.channels.ensure(platform, channel)
        if feature is not None:
            person = ctx.repos.members.ensure(platform, facilitator) if facilitator else None
            item = feature.create(
                ctx, place, rule, values, skip_holidays=not on_holidays, creator=person
            )
            what = f"{item.kind} ({feature.details(ctx.texts, item)})"
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
    except ScheduleError as exc:
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
    elif (feature := _kinds().get(result.kind or "")) is not None and (
        result.started_id is not None or result.skipped == "busy"
    ):
        click.echo(f"schedule #{schedule_id}: {feature.run_line(result)}")
    else:
        click.echo(f"schedule #{schedule_id}: not sent ({result.skipped})")
