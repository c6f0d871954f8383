"""/help (and /leerkring): every command, grouped for members and for facilitators.

One source: the entries of ``prompts/<taal>/texts-help.toml`` (``[help.command.<word>]``, each
with an audience and a one-line text). Slack, Teams and the terminal render the same list, each
with its own way of writing a command and its own footer (``[help.platform.<platform>]``); the
Teams command menu is built from the same entries (bot/teams/package.py).
"""

from __future__ import annotations

from typing import Any

from handlers.core.context import HandlerContext
from handlers.core.events import CommandInvoked
from handlers.core.replies import Ephemeral, Reply, Rich, rich
from handlers.core.router import Router
from prompts import Texts

AUDIENCES = ("members", "facilitators")
HELP_COMMANDS = ("help", "leerkring")  # the commands that show this overview


def help_entries(texts: Texts) -> dict[str, dict[str, Any]]:
    """The command words with their help entry, in the order of the file."""
    return dict(texts.table("help.command"))


def _platform(texts: Texts, platform: str) -> str:
    known = texts.table("help.platform")
    return platform if platform in known else "slack"


def help_text(texts: Texts, platform: str) -> Rich:
    """The overview as it is shown on ``platform`` (slack, teams or terminal)."""
    where = f"help.platform.{_platform(texts, platform)}"
    written = texts.get(f"{where}.command")
    groups: dict[str, list[str]] = {audience: [] for audience in AUDIENCES}
    params: dict[str, str] = {}

    def item(word: str, usage: str | None, text: str) -> str:
        # The descriptions are our own texts with our markup; the command and its usage are
        # parameters, so each adapter escapes them (``<datum>`` is markup to Slack).
        number = len(params)
        params[f"c{number}"] = written.format(word=word)
        template = texts.get("help.item_usage" if usage else "help.item")
        template = template.replace("{command}", f"{{c{number}}}")
        if usage:
            params[f"u{number}"] = usage
            template = template.replace("{usage}", f"{{u{number}}}")
        return template.replace("{text}", text)

    for word, entry in help_entries(texts).items():
        audience = entry.get("audience", "members")
        groups[audience].append(item(word, entry.get("usage"), entry["text"]))
        if audience == "members" and "facilitators" in entry:
            groups["facilitators"].append(item(word, None, entry["facilitators"]))
    groups["members"].append(texts.get(f"{where}.self"))
    lines = [texts.get("help.intro")]
    for audience in AUDIENCES:
        lines.append("")
        lines.append(texts.get(f"help.{audience}"))
        lines.extend(groups[audience])
    lines.append("")
    lines.append(texts.get(f"{where}.footer"))
    return rich("\n".join(lines), **params)


def help_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    return [Ephemeral(help_text(ctx.texts, event.place.platform))]


def register(router: Router) -> None:
    for word in HELP_COMMANDS:
        router.command(word, help_command)
