"""Asks everyone who took part in a werksessie, once and privately, to reflect on it.

The step needs nothing from the werksessie feature but its tables: each tick it finds the
sessions that closed recently and for which nobody was asked yet, writes one row per person
(``WerksessieReflectie``: inbrenger, sign-ups and procesbegeleider; unique per session and
person), and sends the rows still waiting as outbox DMs. The rows are the state, so a restart
carries on where it was, and a claim before each send (handlers/core/sending.py) makes each
question go out once with any number of processes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from handlers.core.context import HandlerContext
from handlers.core.registry import Engine, EngineStep
from handlers.core.replies import Actions, Button, Card, Context, Section
from handlers.core.router import Router
from handlers.core.sending import OutboxSteps, OwedDM, send_owed
from handlers.reflectieverslag import queries
from handlers.reflectieverslag.chat import ACTION_REFLECT, describe
from storage.models import Member

ASK_STEPS = OutboxSteps(queries.ASK)
# Sessions that closed longer ago are not asked about any more (after an outage, or for the
# sessions that closed before this feature was turned on): a reflection is asked while fresh.
ASK_WITHIN = timedelta(days=3)


def plan_asks(ctx: HandlerContext) -> int:
    """One row per person for each session that closed and has no rows yet."""
    planned = 0
    for werksessie, casus in queries.closed_unasked(ctx.session, ctx.now() - ASK_WITHIN):
        people = []
        for member_id in sorted(queries.people_of(ctx.session, werksessie, casus)):
            member = ctx.session.get(Member, member_id)
            if member is None or member.platform_user_id.startswith("~"):
                continue  # the anonymous member keeps what an erased person left
            people.append((member_id, queries.role_of(werksessie, casus, member_id)))
        queries.add_asks(ctx.session, werksessie, people)
        planned += len(people)
    return planned


Ask = OwedDM


def pending_asks(ctx: HandlerContext) -> list[Ask]:
    texts = ctx.texts
    out: list[Ask] = []
    for row in queries.unsent_asks(ctx.session):
        member = ctx.session.get(Member, row.member_id)
        if member is None:
            continue
        about = describe(ctx, row)
        text = texts.rich("reflectieverslag.ask.text", **about)
        card = Card(
            (
                Section(text),
                Actions(
                    (
                        Button(
                            ACTION_REFLECT,
                            texts.get("reflectieverslag.ask.button"),
                            str(row.id),
                            "primary",
                        ),
                    )
                ),
                Context(texts.rich("reflectieverslag.ask.context")),
            ),
            fallback=texts.rich("reflectieverslag.ask.fallback", date=about["date"]),
        )
        out.append(Ask.of(queries.ASK, row, member, card))
    return out


@dataclass(frozen=True)
class Work:
    planned: int
    asks: list[Ask]


def due_work(ctx: HandlerContext) -> Work:
    planned = plan_asks(ctx)
    return Work(planned, pending_asks(ctx))


async def tick_step(engine: Engine) -> Mapping[str, int]:
    work = await engine.call(due_work)
    asked = await send_owed(engine, ASK_STEPS, work.asks, give_up_unreachable=True)
    counts = {"reflectieverslag_planned": work.planned, "reflectieverslag_asked": asked}
    return {name: value for name, value in counts.items() if value}


def register(router: Router) -> None:
    # After the werksessie step (75), so a session it closes in this tick is asked about at once.
    router.engine_step(EngineStep("reflectieverslag.ask", tick_step, order=76))
