"""The terminal with the strict guard: a name in a casus, pseudonymised and approved."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.runtime import Runtime
from bot.terminal.chat import TerminalChat
from handlers.core.context import HandlerContext
from handlers.features import build_router
from handlers.privacy.deduce import DeduceGuard
from handlers.reflection import chat as reflection
from handlers.reflection import steps as reflection_steps
from prompts import load_texts
from storage.db import Database
from storage.models import Answer, Casus, CasusStatus

SCRIPT = "\n".join(
    [
        "/casus Moeder weigert hulp",
        "",  # keep the prefilled title
        "Moeder Fatima el Amrani heeft schulden. Fatima el Amrani wil geen hulp.",
        "",
        "",
        "",
        "Wat zouden jullie doen?",
        "",
        "1",
        "3",  # sent back to the choice only: pseudonymise
        "/knop casus_anoniem_plaatsen 1",
        "/stop",
        "",
    ]
)


def test_terminal_pseudonymises_a_name_after_approval(
    database: Database, strict_guard: DeduceGuard
) -> None:
    texts = load_texts("nl")
    runtime = Runtime(database, build_router(), texts, strict_guard)
    out = io.StringIO()
    TerminalChat(runtime, texts, user="ik", stdin=io.StringIO(SCRIPT), stdout=out).run()
    output = out.getvalue()
    warning = "! Namen en plaatsen: Dit lijkt over iemand te gaan: een naam (Fa**** ** ******)."
    assert warning in output
    assert "Zo wordt je casus geplaatst" in output
    assert "/knop casus_anoniem_plaatsen 1" in output
    shown = output.split("Wat zouden jullie doen?", 1)[1]
    assert "Amrani" not in shown
    assert "[PERSOON-1] heeft schulden. [PERSOON-1] wil geen hulp." in shown
    with database.session() as session:
        casus = session.scalars(select(Casus)).one()
        assert casus.status == CasusStatus.OPEN
        assert casus.situation == "Moeder [PERSOON-1] heeft schulden. [PERSOON-1] wil geen hulp."


def _prompt_in_terminal(ctx: HandlerContext) -> int:
    channel = ctx.repos.channels.ensure("terminal", "leerkring", None, "leerkring")
    schedule = reflection.create_schedule(
        ctx, channel, reflection.NewSchedule("wat-ging-goed", "elke vrijdag om 15:00"), None
    )
    fired = reflection_steps.fire_run(ctx, schedule, ctx.now(), key="terminal-run")
    assert fired.run_id is not None
    return fired.run_id


def test_terminal_reflection_answer_with_a_name_asks_and_stores_placeholders(
    database: Database, strict_guard: DeduceGuard
) -> None:
    texts = load_texts("nl")
    runtime = Runtime(database, build_router(), texts, strict_guard)
    run_id = runtime.call_sync(_prompt_in_terminal)
    script = "\n".join(
        [
            f"/antwoord {run_id}",
            "Vandaag sprak ik Fatima el Amrani op school.",
            "",  # end of the first answer
            "",  # the second question is optional
            "3",  # sent back to the choice only: pseudonymise
            "/stop",
            "",
        ]
    )
    out = io.StringIO()
    TerminalChat(runtime, texts, user="ik", stdin=io.StringIO(script), stdout=out).run()
    assert "! Namen en plaatsen: Dit lijkt over iemand te gaan" in out.getvalue()
    with database.session() as session:
        (answer,) = session.scalars(select(Answer)).all()
        assert answer.text == "Vandaag sprak ik [PERSOON-1] op school."
