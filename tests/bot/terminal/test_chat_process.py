"""`leerkring chat` as a real process at a real (pseudo) terminal, driven with pexpect: the
prompt is prompt_toolkit's, so what is tested here is what a person at a terminal sees."""

from __future__ import annotations

import os
import re
import signal
import stat
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pexpect
import pytest
from sqlalchemy import select

from handlers.features import build_router
from storage.db import Database
from storage.models import Answer, Casus

pytestmark = pytest.mark.slow

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r")


class Chat:
    """One `leerkring chat` process; ``seen`` is everything it printed, without escapes."""

    def __init__(self, tmp_path: Path, *, user: str = "ik", guard: str = "basic") -> None:
        self.tmp_path = tmp_path
        self.user = user
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
            "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "LEERKRING_PRIVACY_GUARD": guard,
            "TERM": "xterm",
            # pexpect is no terminal emulator: it does not answer cursor position requests.
            "PROMPT_TOOLKIT_NO_CPR": "1",
        }
        env.pop("NO_COLOR", None)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "bot.cli", "chat", "--user", user],
            env=env,
            cwd=str(tmp_path),
            encoding="utf-8",
            timeout=60,
            dimensions=(50, 250),
        )
        self.raw = ""

    def _collect(self) -> None:
        self.raw += (self.child.before or "") + (
            self.child.after if isinstance(self.child.after, str) else ""
        )

    @property
    def seen(self) -> str:
        return _ANSI.sub("", self.raw)

    def expect(self, text: str, timeout: float = 60) -> None:
        self.child.expect(re.escape(text), timeout=timeout)
        self._collect()

    def prompt(self) -> None:
        """Wait for the main prompt (``ik>``), as prompt_toolkit draws it."""
        self.child.expect(re.escape(f"\x1b[0m{self.user}>"), timeout=60)
        self._collect()

    def ask(self) -> None:
        """Wait for a form question's input line (``  · ``)."""
        self.child.expect(re.escape("\x1b[0m  ·"), timeout=60)
        self._collect()

    def send(self, line: str) -> None:
        self.child.sendline(line)

    def interrupt(self) -> None:
        """Ctrl-C, once the prompt has the terminal (as a person would press it)."""
        time.sleep(0.5)
        self.child.sendcontrol("c")

    def end(self) -> int:
        self.child.expect(pexpect.EOF, timeout=60)
        self._collect()
        self.child.close()
        assert self.child.exitstatus is not None, "killed by a signal"
        return int(self.child.exitstatus)


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[Chat]:
    process = Chat(tmp_path)
    yield process
    if process.child.isalive():
        process.child.terminate(force=True)


def _database(tmp_path: Path) -> Database:
    return Database.from_url(f"sqlite:///{tmp_path / 'chat.db'}")


def test_help_lists_every_command_grouped_per_role(chat: Chat) -> None:
    chat.prompt()
    chat.send("/help")
    chat.expect("Alleen in de terminal")
    chat.prompt()
    shown = chat.seen
    members, _, rest = shown.partition("Voor begeleiders")
    assert "Voor iedereen" in members
    for command in build_router().commands:
        word = "/help" if command == "leerkring" else f"/{command}"
        assert word in shown, command
    assert "/oogsten" in rest and "/oogsten" not in members  # facilitators only
    for terminal_only in ("/lijst", "/toon", "/reageer", "/afronden", "/antwoord", "/knop", "/als"):
        assert terminal_only in rest
    assert "_[" not in shown  # our markup is rendered, not shown raw
    chat.send("/stop")
    assert chat.end() == 0


def test_a_required_field_left_empty_is_asked_again_at_once(chat: Chat, tmp_path: Path) -> None:
    chat.prompt()
    chat.send("/casus Moeder weigert hulp")
    chat.ask()
    chat.send("")  # keep the title
    chat.expect("Wat is er gebeurd")
    chat.ask()
    chat.send("")  # the situation is required
    chat.expect("Dit veld is verplicht.")
    chat.ask()
    before_next = chat.seen.rsplit("Dit veld is verplicht.", 1)[1]
    assert "Waar loop je tegenaan" not in before_next  # not moved on to the next question
    chat.send("Het gezin heeft schulden.")
    chat.ask()
    chat.send("")  # end of the lines
    for question in ("Waar loop je tegenaan", "Waar ben je onzeker"):  # optional
        chat.expect(question)
        chat.ask()
        chat.send("")
    chat.expect("vraag aan de groep")
    chat.ask()
    chat.send("Wat zouden jullie doen?")
    chat.ask()
    chat.send("")
    chat.expect("perspectieven")
    chat.ask()
    chat.send("1")  # a perspective
    chat.expect("━━ Moeder weigert hulp ━━")
    chat.prompt()
    chat.send("/stop")
    assert chat.end() == 0
    # No question about names and places with the basic guard: nothing was found.
    assert "Namen en plaatsen" not in chat.seen
    database = _database(tmp_path)
    with database.session() as session:
        casus = session.scalars(select(Casus)).one()
        assert casus.situation == "Het gezin heeft schulden."
        assert casus.question == "Wat zouden jullie doen?"
    database.dispose()


def test_a_button_without_a_value_works_typed_as_shown_and_the_export_is_private(
    chat: Chat, tmp_path: Path
) -> None:
    chat.prompt()
    chat.send("/mijn-gegevens")
    chat.expect("Verwijder mijn gegevens: ")
    chat.child.expect(r"/knop [^\]\r\n]+")
    shown = chat.child.after.strip()
    chat._collect()
    chat.prompt()
    assert shown == "/knop privacy_verwijder_vraag"
    saved = re.search(r"Mijn gegevens in Leerkring: (\S+\.json)", chat.seen)
    assert saved is not None, chat.seen
    path = Path(saved.group(1))
    assert path.is_relative_to(tmp_path / "data" / "leerkring")
    assert not (tmp_path / "oogst").exists()  # nothing in the working folder
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert '"user_id": "ik"' in path.read_text(encoding="utf-8")
    assert "alleen jij kunt deze map lezen" in chat.seen

    chat.send(shown)  # typed exactly as shown
    chat.expect("Weet je het zeker?")
    chat.child.expect(r"Ja, verwijder alles: (/knop [^\]\r\n]+)")
    confirm = chat.child.match.group(1).strip()
    chat._collect()
    chat.prompt()
    chat.send(confirm)
    chat.expect("Je gegevens zijn verwijderd: 0 bijdragen en 0 antwoorden gewist.")
    chat.expect("Je casussen (0) blijven staan zonder je naam.")
    chat.prompt()
    chat.send("/stop")
    assert chat.end() == 0


def test_ctrl_c_in_a_form_leaves_quietly_and_stores_nothing(chat: Chat, tmp_path: Path) -> None:
    chat.prompt()
    chat.send("/casus Half getypt")
    chat.ask()
    chat.send("")
    chat.ask()
    chat.interrupt()
    assert chat.end() == 0
    assert "Tot ziens!" in chat.seen
    assert "Traceback" not in chat.seen and "KeyboardInterrupt" not in chat.seen
    database = _database(tmp_path)
    with database.session() as session:
        assert session.scalars(select(Casus)).all() == []
    database.dispose()


def test_ctrl_c_while_the_strict_guard_loads_leaves_quietly(tmp_path: Path) -> None:
    chat = Chat(tmp_path, guard="strict")
    try:
        chat.prompt()
        # deduce's worker is still loading (that takes far longer). A SIGINT to the whole
        # process group, as Ctrl-C gives in a terminal that is not in raw mode.
        time.sleep(0.5)
        os.killpg(chat.child.pid, signal.SIGINT)
        assert chat.end() == 0
    finally:
        if chat.child.isalive():
            chat.child.terminate(force=True)
    assert "Tot ziens!" in chat.seen
    for noise in ("Traceback", "KeyboardInterrupt", "multiprocessing", "resource_tracker"):
        assert noise not in chat.seen, chat.seen


def test_a_scheduled_question_appears_while_the_prompt_waits(chat: Chat, tmp_path: Path) -> None:
    """A reflection schedule for the coming minute; after planning it nothing more is typed,
    and the question is printed above the waiting prompt."""
    now = datetime.now(ZoneInfo("Europe/Amsterdam"))
    fire = (now + timedelta(minutes=2 if now.second > 45 else 1)).replace(second=0)
    chat.prompt()
    chat.send("/reflectie")
    chat.expect("Schema toevoegen")
    chat.prompt()
    chat.send("/knop reflectie_nieuw new")
    chat.ask()
    chat.send("1")  # wat-ging-goed
    chat.ask()
    chat.send(f"{fire.minute} {fire.hour} * * *")
    for answer in ("1", "1", "1", ""):  # channel, answers for everyone, skip holidays, 48 h
        chat.ask()
        chat.send(answer)
    chat.expect("Schema #1 staat klaar")
    chat.prompt()
    planned_at = len(chat.seen)
    chat.expect("[Antwoord geven: /antwoord 1]", timeout=150)
    assert "Wat ging goed" in chat.seen[planned_at:]
    chat.send("/stop")
    assert chat.end() == 0
    database = _database(tmp_path)
    with database.session() as session:
        assert session.scalars(select(Answer)).all() == []  # nobody answered yet
    database.dispose()
