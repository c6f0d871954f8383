"""The terminal with the strict guard: a name in a casus, pseudonymised and approved."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.runtime import Runtime
from bot.terminal.chat import TerminalChat
from handlers.privacy_deduce import DeduceGuard
from handlers.router import build_router
from prompts import load_texts
from storage.db import Database
from storage.models import Casus, CasusStatus

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
        "",  # names and places: the default, check and warn me
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
