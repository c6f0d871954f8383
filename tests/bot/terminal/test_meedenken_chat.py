"""Wie kan meedenken in ``leerkring chat`` (the real program): bob of another organisation
fills in his profile (working every day, so the clock of the test machine never holds his
DM), ik brings in a casus, gets the suggestion privately, presses the button twice, and bob
gets one request."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import MeedenkRequest, MemberProfile

SCRIPT = "\n".join(
    [
        "/als bob",
        "/knop profiel_bewerken profiel",
        "Schuldhulp Utrecht",  # organisation
        "",  # role
        "3",  # expertise: schulden
        "1,2,3,4,5,6,7",  # working days: every day
        "",  # may be asked: keep "ja"
        "/als ik",
        "/knop profiel_bewerken profiel",
        "Wijkteam Oost",
        "",
        "1",
        "",  # working days: none chosen, Monday to Friday
        "",
        "/casus Moeder weigert hulp",
        "",
        "Het gezin heeft schulden en de moeder wil geen hulp.",
        "",
        "",
        "",
        "Wat zouden jullie doen?",
        "",
        "1,3",  # jeugd, schulden
        "/knop meedenken_vraag {value}",
        "/knop meedenken_vraag {value}",
        "/stop",
        "",
    ]
)


def run(tmp_path: Path, script: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "ik"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_suggestion_and_one_request_in_the_terminal(tmp_path: Path) -> None:
    # bob is the first member, ik the second: casus 1, bob's member id 1.
    out = run(tmp_path, SCRIPT.format(value="1:1"))
    suggestion = out.split("(privébericht aan @ik)", 1)[1]
    assert "Wie kan meedenken over Moeder weigert hulp?" in suggestion
    assert "@bob — Schuldhulp Utrecht" in suggestion
    assert "[Vraag bob om mee te denken: /knop meedenken_vraag 1:1]" in suggestion
    assert "Verstuurd: @bob krijgt een privébericht" in out
    assert "Je hebt @bob al gevraagd" in out
    requests = re.findall(r"\(privébericht aan @bob\)\n(.*)", out)
    assert len([r for r in requests if "Moeder weigert hulp" in r]) == 1
    database = Database.from_url(f"sqlite:///{tmp_path / 'chat.db'}")
    with database.session() as session:
        (request,) = session.scalars(select(MeedenkRequest))
        assert request.status == "sent"
        days = {p.member_id: p.work_days for p in session.scalars(select(MemberProfile))}
    database.dispose()
    assert days == {1: "1234567", 2: None}
