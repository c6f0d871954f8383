"""`leerkring privacy`: the rights of the person (AVG art. 15 and 17) for facilitators, the same
as /mijn-gegevens in chat.

    leerkring privacy export --user slack:U0123ABC --out gegevens.json
    leerkring privacy erase --user slack:U0123ABC          (asks to confirm; --yes skips that)
    leerkring privacy purges                               (the latest retention purges)
    leerkring privacy prepare-guard                        (at install or image build)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from handlers.core.context import HandlerContext
from handlers.privacy.retention import PurgeRecord, latest_purges
from handlers.privacy.rights import erase, export_json
from handlers.privacy.rights_queries import Erasure

PLATFORMS = ("slack", "teams", "terminal")


def _person(value: str) -> tuple[str, str]:
    platform, sep, user_id = value.partition(":")
    if not sep or platform not in PLATFORMS or not user_id.strip():
        raise click.BadParameter(
            "write platform:user id, e.g. slack:U0123ABC or teams:<Entra object id>",
            param_hint="--user",
        )
    return platform, user_id.strip()


@click.group("privacy")
def privacy() -> None:
    """A person's data: export it as JSON, or erase it; and the retention purges."""


@privacy.command("export")
@click.option("--user", "person", required=True, help="platform:user id, e.g. slack:U0123ABC")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write; default: standard output.",
)
def export(person: str, out: str | None) -> None:
    """Everything stored about one person, as JSON."""
    from bot.cli_common import open_services

    platform, user_id = _person(person)
    services = open_services()

    def build(ctx: HandlerContext) -> bytes:
        return export_json(ctx, platform, user_id)

    try:
        data = services.runtime.call_sync(build)
    finally:
        services.close()
    if out:
        Path(out).write_bytes(data)
        click.echo(f"export written to {out}", err=True)
    else:
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.flush()


@privacy.command("erase")
@click.option("--user", "person", required=True, help="platform:user id, e.g. slack:U0123ABC")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(person: str, yes: bool) -> None:
    """Erase one person: profile, bijdragen, answers, takeaways; their casussen stay anonymous."""
    from bot.cli_common import open_services

    platform, user_id = _person(person)
    if not yes:
        click.confirm(
            f"Erase everything about {platform}:{user_id}? This cannot be undone",
            abort=True,
            err=True,
        )
    services = open_services()

    def run(ctx: HandlerContext) -> Erasure:
        return erase(ctx, platform, user_id)

    try:
        result = services.runtime.call_sync(run)
    finally:
        services.close()
    if not result.found:
        click.echo(f"nothing is stored about {platform}:{user_id}", err=True)
        return
    click.echo(
        f"erased {platform}:{user_id}: {result.bijdragen} bijdragen, "
        f"{result.answers} answers, {result.takeaways} takeaways removed; "
        f"{result.casussen_anonymised} casussen kept anonymously",
        err=True,
    )


@privacy.command("purges")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many."
)
def purges(limit: int) -> None:
    """The latest retention purges that replaced texts: when, cut-off, counts (newest first)."""
    from bot.cli_common import open_services

    services = open_services()
    months = services.settings.retention_months

    def read(ctx: HandlerContext) -> list[PurgeRecord]:
        return latest_purges(ctx, limit)

    try:
        records = services.runtime.call_sync(read)
    finally:
        services.close()
    if months:
        click.echo(
            f"retention: texts are replaced {months} months after closing or posting "
            "(LEERKRING_RETENTION_MONTHS); the scheduler checks at most once an hour"
        )
    else:
        click.echo("retention: off (LEERKRING_RETENTION_MONTHS=0), texts are kept")
    if not records:
        click.echo("no purge has replaced any texts yet")
        return
    click.echo("purged at (UTC)   texts older than  casussen  bijdragen  answers  takeaways")
    for r in records:
        click.echo(
            f"{r.purged_at:%Y-%m-%d %H:%M}  {r.cutoff:%Y-%m-%d}        "
            f"{r.casussen:>8}  {r.bijdragen:>9}  {r.answers:>7}  {r.takeaways:>9}"
        )


@privacy.command("prepare-guard")
def prepare_guard() -> None:
    """Build the strict privacy guard's name cache, once, at install or image build, so no
    server builds it at its first start."""
    from handlers.privacy.deduce import build_cache

    path = build_cache()
    click.echo(f"privacy guard: name cache ready ({path.stat().st_size // 1024} KB)")
