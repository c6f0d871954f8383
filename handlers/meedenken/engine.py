"""The scheduler step that sends the requests to think along: one DM per request row, through
the outbox (handlers/core/sending.py), so it is sent once with any number of processes, after
a restart or a lost answer, and on the member's working day."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers.core import workdays
from handlers.core.context import HandlerContext
from handlers.core.events import Place
from handlers.core.messaging import DeliveryFailed, thread_link
from handlers.core.registry import Engine, EngineStep
from handlers.core.replies import Card, Mention, Param
from handlers.core.router import Router
from handlers.core.sending import OutboxSteps, all_done, direct_once
from handlers.meedenken import queries
from handlers.meedenken.chat import request_card

REQUEST_STEPS = OutboxSteps(queries.REQUEST_DM)


@dataclass(frozen=True)
class Owed:
    request_id: int
    platform: str
    user_id: str
    status: str
    place: Place
    message_id: str | None


def owed(ctx: HandlerContext) -> list[Owed]:
    """Requests still to send whose member is at work now (the others wait; the claim checks
    again)."""
    out = []
    for request in queries.unsent(ctx.session):
        member, channel = request.member, request.casus.channel
        if workdays.hold_for(
            ctx.session, member.platform, member.platform_user_id, ctx.now(), ctx.zone
        ):
            continue
        out.append(
            Owed(
                request.id,
                member.platform,
                member.platform_user_id,
                request.status,
                Place(channel.platform, channel.platform_channel_id, channel.team_id),
                request.casus.message_id,
            )
        )
    return out


def cards(ctx: HandlerContext, links: Mapping[int, str | None]) -> dict[int, Card]:
    out = {}
    for request_id, link in links.items():
        request = ctx.session.get(queries.MeedenkRequest, request_id)
        if request is None:
            continue
        casus = request.casus
        inbrenger: Param | None = (
            None if casus.anonymous else Mention(casus.inbrenger.platform_user_id)
        )
        out[request_id] = request_card(ctx.texts, casus.title, inbrenger, link)
    return out


def _undeliverable(ctx: Any, request_id: int, reason: str) -> None:
    REQUEST_STEPS.finished(ctx, request_id, None, reason)


async def send_step(engine: Engine) -> Mapping[str, int]:
    due: list[Owed] = await engine.call(owed)
    if not due:
        return {}
    links: dict[int, str | None] = {}
    messengers = {}
    for item in due:
        try:
            messenger = engine.messengers.get(item.platform)
        except DeliveryFailed as exc:
            if item.platform not in engine.messengers.stopped:
                await engine.call(_undeliverable, item.request_id, exc.reason)
            continue
        messengers[item.request_id] = messenger
        links[item.request_id] = (
            await thread_link(messenger, item.place, item.message_id) if item.message_id else None
        )
    made: dict[int, Card] = await engine.call(cards, links)
    sends = [
        direct_once(
            engine.runtime,
            engine.semaphore,
            messengers[item.request_id],
            REQUEST_STEPS,
            item.request_id,
            item.status,
            item.user_id,
            made[item.request_id],
            f"leerkring:meedenken:{item.request_id}",
        )
        for item in due
        if item.request_id in made and item.request_id in messengers
    ]
    return {"meedenk_requests": await all_done(sends)}


def register(router: Router) -> None:
    router.engine_step(EngineStep("meedenken.requests", send_step, order=60))
