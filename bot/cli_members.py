"""`leerkring members import file.csv`: members, their organisation, role and expertise.

Columns (header required, order free): ``platform,user_id`` and optionally ``name``,
``organisation``, ``role``, ``expertise`` (perspective ids or labels, separated by ``;`` or
``|``). Comma- and semicolon-separated files both work (Excel in Dutch writes ``;``). Every
line is checked first; one bad line and nothing is imported, with an error per line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from handlers.core.forms import clean_text
from handlers.privacy.guard import StructuredGuard
from handlers.profiles.queries import profile_repo
from prompts import Texts

PLATFORMS = ("slack", "teams", "terminal")
REQUIRED = ("platform", "user_id")
KNOWN = (*REQUIRED, "name", "organisation", "role", "expertise")
MAX_TEXT = 200


@dataclass(frozen=True)
class MemberRow:
    line: int
    platform: str
    user_id: str
    name: str
    organisation: str
    role: str
    expertise: tuple[str, ...]


def read_rows(text: str, texts: Texts) -> tuple[list[MemberRow], list[str]]:
    """The rows, or the errors (``line N: …``) that stop the import."""
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(KNOWN)}"]
    reader.fieldnames = header
    split = re.compile(r"[;|]" if delimiter == "," else r"[,|]")
    by_key = {p.id.lower(): p.id for p in texts.perspectives}
    by_key.update({p.label.lower(): p.id for p in texts.perspectives})
    guard = StructuredGuard()
    rows: list[MemberRow] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(reader, start=2):
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # blank line
        value = {k: clean_text(raw.get(k) or "") for k in KNOWN}
        problems: list[str] = []
        platform = value["platform"].lower()
        if platform not in PLATFORMS:
            problems.append(f"platform must be one of {', '.join(PLATFORMS)}")
        if not value["user_id"]:
            problems.append("user_id is empty")
        elif len(value["user_id"]) > 100:
            problems.append("user_id is longer than 100 characters")
        for column in ("name", "organisation", "role"):
            if len(value[column]) > MAX_TEXT:
                problems.append(f"{column} is longer than {MAX_TEXT} characters")
        for finding in guard.check({c: value[c] for c in ("organisation", "role")}):
            problems.append(
                f"{finding.field_id} looks like it holds a {finding.category.value}; leave it out"
            )
        expertise: list[str] = []
        for item in (s.strip() for s in split.split(value["expertise"]) if s.strip()):
            if item.lower() in by_key:
                expertise.append(by_key[item.lower()])
            else:
                problems.append(
                    f"expertise {item!r} is not a known perspective "
                    f"({', '.join(p.id for p in texts.perspectives)})"
                )
        key = (platform, value["user_id"])
        if value["user_id"] and key in seen:
            problems.append(f"{value['user_id']} appears twice (first on line {seen[key]})")
        seen.setdefault(key, number)
        errors.extend(f"line {number}: {p}" for p in problems)
        if not problems:
            rows.append(
                MemberRow(
                    number,
                    platform,
                    value["user_id"],
                    value["name"],
                    value["organisation"],
                    value["role"],
                    tuple(dict.fromkeys(expertise)),
                )
            )
    return rows, errors


def import_rows(ctx: Any, rows: list[MemberRow]) -> int:
    """One transaction: all rows or none. Returns how many members are new."""
    from handlers.profiles.chat import save_profile

    new = 0
    for row in rows:
        new += ctx.repos.members.find(row.platform, row.user_id) is None
        member = ctx.repos.members.ensure(row.platform, row.user_id, display_name=row.name or None)
        save_profile(ctx, member, row.organisation, row.role, list(row.expertise))
        # What the welcome DM would ask is known now; no need to ask again.
        profile_repo(ctx).welcome_once(member, ctx.now())
    return new


@click.group()
def members() -> None:
    """Members and their organisations."""


@members.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_members(path: Path) -> None:
    """Import members from a CSV file (platform,user_id,name,organisation,role,expertise)."""
    from bot.cli_common import open_services

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text; save the file as CSV UTF-8") from None
    services = open_services()
    try:
        rows, errors = read_rows(text, services.texts)
        if errors:
            for error in errors:
                click.echo(f"{path.name}: {error}", err=True)
            click.echo(f"{len(errors)} error(s); nothing was imported", err=True)
            raise SystemExit(1)
        new = services.runtime.call_sync(import_rows, rows)
    finally:
        services.close()
    organisations = len({r.organisation.lower() for r in rows if r.organisation})
    click.echo(f"{len(rows)} members imported ({new} new), {organisations} organisations")
