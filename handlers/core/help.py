"""Commands that are not about one flow: help."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from handlers.core.events import CommandInvoked
from handlers.core.replies import Ephemeral, Reply
from handlers.core.router import Router


def help_command(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    return [Ephemeral(ctx.texts.rich("general.help"))]


def register(router: Router) -> None:
    router.command("help", help_command)
    router.command("leerkring", help_command)
