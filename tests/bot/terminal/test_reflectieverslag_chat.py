"""The reflectieverslag in ``leerkring chat``: the reflection form after a werksessie through
``/knop``, and ``/reflectieverslag`` writing the record (HTML and JSON) as files."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.runtime import Runtime
from bot.terminal.chat import TerminalChat
from handlers.features import build_router
from handlers.privacy.guard import StructuredGuard
from handlers.reflectieverslag.engine import plan_asks
from prompts import load_texts
from storage.db import Database
from storage.models import WerksessieReflectie
from tests.support.reflectieverslag_seed import (
    ANNA_ANSWER,
    BOB_ANSWER,
    CLIENT_TITLE,
    T0,
    People,
    seed,
)
from tests.support.scheduling import Clock

PEOPLE = People(anna="ik", bob="bob", carla="carla", facilitator="fenna")


def test_reflect_in_the_terminal_then_write_the_record_as_files(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    ids = seed(database, "terminal", PEOPLE, ("leerkring", "schulden"))
    texts = load_texts("nl")
    runtime = Runtime(database, build_router(), texts, StructuredGuard())
    runtime.clock = Clock(T0 + timedelta(hours=4))
    assert runtime.call_sync(plan_asks) == 9  # everyone of the three closed sessions
    with database.session() as session:
        row = session.query(WerksessieReflectie).filter_by(session_id=ids.incident).all()
        mine = next(r.id for r in row if r.role == "deelnemer")

    script = [
        f"/knop reflectieverslag_reflecteer {mine}",
        "Cliënt met BSN 111222333",  # technisch: refused, asked again below
        "",
        "",  # normatief: left empty
        "Ik wil te snel oplossen.",  # persoonlijk
        "",
        "Doorvragen werkt beter dan adviseren.",  # technisch again
        "",
        "/reflectieverslag 2026",
        "/stop",
        "",
    ]
    out = io.StringIO()
    TerminalChat(runtime, texts, user="ik", stdin=io.StringIO("\n".join(script)), stdout=out).run()
    output = out.getvalue()
    assert "Je reflectie is bewaard" in output
    assert "2 werksessies, 1 reflectie" in output
    files = sorted((tmp_path / "data" / "leerkring" / "bestanden").iterdir())
    assert [f.suffix for f in files] == [".html", ".json"]
    record = json.loads(files[1].read_text("utf-8"))
    first = record["werksessies"][0]
    assert first["reflection"] == {
        "technisch": "Doorvragen werkt beter dan adviseren.",
        "normatief": "",
        "persoonlijk": "Ik wil te snel oplossen.",
    }
    assert [a["answer"] for a in record["reflection_answers"]] == [ANNA_ANSWER]
    html = files[0].read_text("utf-8")
    assert "Doorvragen werkt beter dan adviseren." in html
    for text in (files[0].read_text("utf-8"), files[1].read_text("utf-8")):
        assert "111222333" not in text and BOB_ANSWER not in text and CLIENT_TITLE not in text
