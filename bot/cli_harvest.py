"""`leerkring oogst`: the same harvest report as /oogsten, written to a file (or stdout).

    leerkring oogst --since 2026-09-01 --until 2026-10-15 --channel casuistiek --format html \\
        --out oogst.html
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from handlers.core.context import HandlerContext
from handlers.harvest.chat import channel_label, channel_ref, log_harvest
from handlers.harvest.periods import PeriodError, parse_period
from handlers.harvest.render import FORMATS, render
from handlers.harvest.report import HarvestOptions, collect_harvest
from storage.models import Channel

EXAMPLES = (
    'Examples: --period "afgelopen 6 weken", --period "dit kwartaal", '
    '--since 2026-09-01 --until 2026-10-15, --since "1 september"'
)


def period_text(period: str | None, since: str | None, until: str | None) -> str:
    if period and (since or until):
        raise click.UsageError("use either --period or --since/--until")
    if since and until:
        return f"{since}..{until}"
    if since:
        return f"sinds {since}"
    if until:
        return f"2000-01-01..{until}"
    return period or ""


@click.command("oogst")
@click.option("--since", help="First day, e.g. 2026-09-01 or '1 september'.")
@click.option("--until", help="Last day (included), e.g. 2026-10-15.")
@click.option("--period", help='In words, e.g. "afgelopen 6 weken" (default) or "this quarter".')
@click.option("--channel", help="Channel id (C0123ABC) or name; default: every channel.")
@click.option(
    "--platform",
    type=click.Choice(["slack", "teams", "terminal"]),
    default=None,
    help="Platform of --channel when ids could clash.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="md: Markdown to read or paste; html: one page to print or save as PDF; csv: one row "
    "per item, for a spreadsheet; json: the same for other programs.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write; default: standard output.",
)
def oogst(
    since: str | None,
    until: str | None,
    period: str | None,
    channel: str | None,
    platform: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """The harvest report (Markdown, HTML, CSV or JSON); logged in harvest_log as "cli"."""
    from bot.cli_common import open_services

    wanted = period_text(period, since, until)
    services = open_services()

    def build(ctx: HandlerContext) -> bytes:
        try:
            chosen = parse_period(wanted, ctx.now(), ctx.zone)
        except PeriodError:
            raise click.BadParameter(f"cannot read the period {wanted!r}. {EXAMPLES}") from None
        session = ctx.session
        found = None
        if channel:
            name = channel.lstrip("#")
            query = select(Channel).where(
                (Channel.platform_channel_id == name) | (Channel.name == name)
            )
            if platform:
                query = query.where(Channel.platform == platform)
            found = session.scalars(query.order_by(Channel.id)).first()
            if found is None:
                raise click.BadParameter(f"no channel {channel!r} is known", param_hint="--channel")
        harvest = collect_harvest(
            session,
            chosen,
            channel_id=found.id if found else None,
            channel_label=channel_label(found) if found else None,
            now=ctx.now(),
            options=HarvestOptions(registry=ctx.registry.harvest_sections),
            zone=ctx.zone,
        )
        log_harvest(session, "cli", channel_ref(found) if found else None, chosen, fmt, ctx.now())
        return render(harvest, ctx.texts, fmt, ctx.zone)

    try:
        data = services.runtime.call_sync(build)
    finally:
        services.close()
    if out:
        Path(out).write_bytes(data)
        click.echo(f"harvest written to {out}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
