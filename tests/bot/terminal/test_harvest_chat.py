"""/oogsten in the terminal chat: the summary printed, the report and chart saved as files."""

from __future__ import annotations

import io
from pathlib import Path

from bot.runtime import Runtime
from bot.terminal.chat import TerminalChat
from handlers.features import build_router
from handlers.privacy.guard import StructuredGuard
from prompts import load_texts
from storage.db import Database
from tests.support.harvest_seed import NOW, seed_story


def test_oogsten_in_the_terminal_prints_the_summary_and_saves_the_files(
    database: Database, tmp_path: Path
) -> None:
    seed_story(database)
    texts = load_texts("nl")
    runtime = Runtime(
        database,
        build_router(),
        texts,
        StructuredGuard(),
        facilitators=frozenset({"fenna"}),
        clock=lambda: NOW,
    )
    out = io.StringIO()
    chat = TerminalChat(
        runtime, texts, user="fenna", stdin=io.StringIO("/oogsten\n/stop\n"), stdout=out
    )
    chat.files_dir = tmp_path / "oogst"
    chat.run()
    printed = out.getvalue()
    assert "Oogst 04-09-2026 – 15-10-2026" in printed
    assert "4 ingebracht · 1 afgerond · 4 open" in printed
    saved = sorted(p.name for p in chat.files_dir.iterdir())
    assert saved == [
        "oogst-alle-kanalen-20260904-20261015.html",
        "oogst-alle-kanalen-20260904-20261015.png",
    ]
    page = (chat.files_dir / saved[0]).read_text(encoding="utf-8")
    assert "Moeder met huurachterstand wil geen hulp" in page
    assert f"{chat.files_dir / saved[0]}" in printed
    # The terminal's own words: no "direct messages" where there are none.
    assert "staan als bestanden hieronder" in printed and "privéberichten" not in printed


def test_a_failing_deferred_step_is_a_message_not_a_crash(database: Database) -> None:
    from handlers.core.events import CommandInvoked
    from handlers.core.replies import Deferred

    def broken(ctx: object) -> list[object]:
        raise RuntimeError("boom")

    texts = load_texts("nl")
    runtime = Runtime(database, build_router(), texts, StructuredGuard())
    out = io.StringIO()
    chat = TerminalChat(runtime, texts, user="fenna", stdin=io.StringIO(""), stdout=out)
    event = CommandInvoked(chat.actor, chat.place, "oogsten")
    chat.deliver([Deferred(broken)], event)  # type: ignore[arg-type]
    assert texts.get("general.error_generic") in out.getvalue()
