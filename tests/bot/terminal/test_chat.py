"""The terminal chat: input fed in, output read back, the database checked."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select

from bot.runtime import Runtime
from bot.terminal.chat import TerminalChat
from handlers.core.guard import Finding
from handlers.features import build_router
from handlers.privacy.guard import GuardNotReady, StructuredGuard
from prompts import load_texts
from storage.db import Database
from storage.models import Bijdrage, Casus, CasusStatus

SCRIPT = "\n".join(
    [
        "/casus Moeder weigert hulp",
        "",  # keep the prefilled title
        "Het gezin heeft schulden. Haar BSN is 111222333.",
        "",
        "",
        "",
        "Wat zouden jullie doen?",
        "",
        "1,3",
        # The guard sent us back to the situation only:
        "Het gezin heeft schulden en de moeder wil geen hulp.",
        "",
        "#1 Ik zou eerst vertrouwen opbouwen",
        "/als bob",
        "/reageer 1 Misschien de school betrekken?",
        "/afronden 1",
        "/als ik",
        "/lijst",
        "/afronden 1",
        "Vertrouwen gaat voor snelheid",
        "",
        "Morgen bel ik de moeder",
        "",
        "/toon 1",
        "/stop",
        "",
    ]
)


def run_chat(database: Database, script: str, language: str = "nl") -> str:
    texts = load_texts(language)
    runtime = Runtime(database, build_router(), texts, StructuredGuard())
    out = io.StringIO()
    TerminalChat(runtime, texts, user="ik", stdin=io.StringIO(script), stdout=out).run()
    return out.getvalue()


def test_terminal_carries_a_casus_from_intake_to_close(database: Database) -> None:
    output = run_chat(database, SCRIPT)
    assert "BSN (11*******)" in output  # the guard answered on the field
    assert "111222333" not in output.split("Haar BSN is")[-1].split("\n", 1)[1]
    assert "━━ Moeder weigert hulp ━━" in output
    assert "[Ik denk mee: /reageer 1]" in output
    assert "Alleen de inbrenger (@ik) kan deze casus afronden" in output
    assert "#1 Moeder weigert hulp — ik, 2 bijdragen" in output
    assert "Mijn stap voor morgen: Morgen bel ik de moeder" in output
    assert "Afgerond" in output
    with database.session() as session:
        casus = session.scalars(select(Casus)).one()
        assert casus.status == CasusStatus.CLOSED
        assert casus.situation == "Het gezin heeft schulden en de moeder wil geen hulp."
        assert casus.perspectives == ["jeugd", "schulden"]
        assert casus.next_step == "Morgen bel ik de moeder"
        texts = [b.text for b in session.scalars(select(Bijdrage).order_by(Bijdrage.id))]
        assert texts == ["Ik zou eerst vertrouwen opbouwen", "Misschien de school betrekken?"]
        authors = [b.author.platform_user_id for b in session.scalars(select(Bijdrage))]
        assert sorted(authors) == ["bob", "ik"]
        assert "111222333" not in repr(session.scalars(select(Casus)).all()[0].__dict__)


def test_cancelling_a_form_stores_nothing(database: Database) -> None:
    output = run_chat(database, "/casus\nEen titel\n/annuleer\n/lijst\n/stop\n")
    assert "Geannuleerd; er is niets opgeslagen." in output
    assert "Er zijn geen open casussen in dit kanaal." in output
    with database.session() as session:
        assert session.scalars(select(Casus)).all() == []


def test_unknown_casus_number_and_english_texts(database: Database) -> None:
    output = run_chat(database, "#7 hallo\n/onzin\n/stop\n", language="en")
    assert "I don't know case #7." in output
    assert "I don't know the command /onzin" in output


def test_terminal_escape_sequences_from_others_are_stripped(database: Database) -> None:
    script = "/casus Titel \x1b[2J wis\n\nSituatie\n\n\n\nVraag\n\n\n/stop\n"
    output = run_chat(database, script)
    assert "\x1b[2J" not in output


def test_leerkring_chat_runs_as_a_program(tmp_path: Path) -> None:
    """The real console entry point, on the embedded default (SQLite, migrated at start)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "ik"],
        input=SCRIPT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Mijn stap voor morgen: Morgen bel ik de moeder" in result.stdout
    assert "Traceback" not in result.stderr
    database = Database.from_url(env["DATABASE_URL"])
    with database.session() as session:
        assert session.scalars(select(Casus)).one().status == CasusStatus.CLOSED
    database.dispose()


REFLECTION_SCRIPT = "\n".join(
    [
        "/reflectie",
        "/knop reflectie_nieuw new",
        "1",  # wat-ging-goed
        "vrijdag 15:00",
        "1",  # in the channel
        "1",  # answers visible to everyone
        "1",  # skip holidays
        "",  # keep 48 hours
        "/knop reflectie_nu 1",
        "/antwoord 1",
        "Het gesprek met de moeder liep goed",
        "",
        "Ik bleef rustig",
        "",
        "/stop",
        "",
    ]
)


def test_reflection_can_be_planned_sent_and_answered_in_the_terminal(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "anna"],
        input=REFLECTION_SCRIPT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Schema #1 staat klaar: Wat ging goed?, elke vrijdag om 15:00." in out
    assert "[Antwoord geven: /antwoord 1]" in out  # the scheduler delivered the prompt
    assert "↳ Het gesprek met de moeder liep goed" in out  # the answer shown in the thread
    from storage.models import Answer

    database = Database.from_url(env["DATABASE_URL"])
    with database.session() as session:
        answers = {a.question_id: a.text for a in session.scalars(select(Answer))}
    database.dispose()
    assert answers == {"goed": "Het gesprek met de moeder liep goed", "bijdrage": "Ik bleef rustig"}


class _GuardStillLoading:
    """The structured guard behind a loading phase: the first check is refused as not ready
    (as the strict guard does while deduce loads), later checks go through."""

    def __init__(self) -> None:
        self._inner = StructuredGuard()
        self.refused = 0

    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        if not self.refused:
            self.refused += 1
            raise GuardNotReady("loading")
        return self._inner.check(fields)


def test_a_submission_refused_while_the_guard_loads_keeps_what_was_typed(
    database: Database,
) -> None:
    texts = load_texts("nl")
    guard = _GuardStillLoading()
    runtime = Runtime(database, build_router(), texts, guard)
    script = "\n".join(
        [
            "/casus Moeder weigert hulp",
            "Vader weigert hulp",  # a new title instead of the one given with the command
            "Het gezin heeft schulden.",
            "",
            "",
            "",
            "Wat zouden jullie doen?",
            "",
            "",  # no perspectives
            # Refused: the guard is loading. The field is asked again with what was typed as
            # its default; Enter keeps it.
            "",
            "/stop",
            "",
        ]
    )
    out = io.StringIO()
    TerminalChat(runtime, texts, user="ik", stdin=io.StringIO(script), stdout=out).run()
    output = out.getvalue()
    assert guard.refused == 1
    assert texts.get("privacy.not_ready") in output
    # Asked again with what was typed as the default, not the form's old one.
    assert "[Vader weigert hulp] (Enter om te houden)" in output
    with database.session() as session:
        casus = session.scalars(select(Casus)).one()
        assert casus.title == "Vader weigert hulp"
        assert casus.situation == "Het gezin heeft schulden."
        assert casus.question == "Wat zouden jullie doen?"
