"""Praktijkvoorbeelden in ``leerkring chat``: shared by one person, translated by two others
(one private) with ``/als`` and ``/knop``; four weeks later the scheduler, ticking after every
command as in the real chat, asks how the step went, once, and the answer is stored."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.runtime import Runtime
from bot.scheduler import Scheduler
from bot.terminal.chat import TerminalChat
from bot.terminal.messenger import TerminalMessenger
from handlers.core.messaging import Messengers
from handlers.features import build_router
from handlers.privacy.guard import StructuredGuard
from prompts import load_texts
from storage.db import Database
from storage.models import Member, PraktijkVertaling, PraktijkVervolg, Praktijkvoorbeeld
from tests.support.scheduling import Clock

T0 = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)

SHARE = [
    "/praktijkvoorbeeld Keukentafelgesprek",
    "",  # keep the title
    "Gezinnen met schulden vroeg bereiken.",
    "",
    "Minder uitval.",
    "",
    "Eén vast gezicht.",
    "",
    "",  # no bottlenecks
    "Eerst thuis, dan samen met alle hulpverleners.",
    "",
    "Begin klein.",
    "",
]


def answer(score_option: str, take: str, step: str, share: str) -> list[str]:
    return [
        score_option,  # the options are numbered from 1: option 8 is score 7
        take,
        "",
        "De grote overleggen.",
        "",
        "",  # nothing on what it needs
        step,
        "",
        share,  # 1: in the thread, 2: only the facilitators
    ]


def run_chat(database: Database, clock: Clock, lines: list[str], user: str = "ik") -> str:
    texts = load_texts("nl")
    runtime = Runtime(database, build_router(), texts, StructuredGuard(), clock=clock)
    out = io.StringIO()
    script = "\n".join([*lines, "/stop", ""])
    chat = TerminalChat(runtime, texts, user=user, stdin=io.StringIO(script), stdout=out)
    messengers = Messengers()
    messengers.add(TerminalMessenger(chat))
    scheduler = Scheduler(runtime, messengers, praktijk_followup_after=timedelta(weeks=4))
    loop = asyncio.new_event_loop()
    chat.after_command = lambda: loop.run_until_complete(scheduler.tick())
    try:
        chat.run()
    finally:
        loop.run_until_complete(scheduler.stop())
        loop.close()
    return out.getvalue()


def test_a_practice_shared_translated_and_followed_up_in_the_terminal(
    database: Database,
) -> None:
    clock = Clock(T0)
    output = run_chat(
        database,
        clock,
        [
            *SHARE,
            "/knop praktijk_vertaal 1",  # one's own practice
            "/als bob",
            "/knop praktijk_vertaal 1",
            *answer("8", "Het vaste gezicht", "Morgen bel ik de wijkagent.", "1"),
            "/als eva",
            "/knop praktijk_vertaal 1",
            *answer("4", "De kennismaking thuis", "Ik vraag mijn teamleider om tijd.", "2"),
            "/knop praktijk_vertaal 1",  # a second time
        ],
    )
    header = "━━ Praktijkvoorbeeld: Keukentafelgesprek ━━"
    assert output.count(header) == 3  # posted once, then updated with each translation
    assert output.count(f"✎ {header}") == 2
    assert "[Vertaal naar mijn praktijk: /knop praktijk_vertaal 1]" in output
    assert "Dit is je eigen praktijkvoorbeeld" in output
    assert "↳ @bob vertaalde dit naar de eigen praktijk: 7/10" in output
    assert "Ik vraag mijn teamleider" not in output.split("Alleen de begeleiders zien")[0]
    assert "Bewaard. Alleen de begeleiders zien je antwoord" in output
    assert "al vertaald naar je eigen praktijk" in output
    assert "privébericht" not in output

    # Four weeks later, in a new chat: one DM per step, and bob tells how it went.
    clock.set(T0 + timedelta(weeks=4, minutes=1))
    later = run_chat(
        database,
        clock,
        [
            "/als bob",
            "/knop praktijk_vervolg 1",
            "Goed, hij kwam langs.",
            "",
            "",
            "/knop praktijk_vervolg 1",  # told already
        ],
    )
    assert later.count("(privébericht aan @bob)") == 1
    assert later.count("(privébericht aan @eva)") == 1
    assert "Morgen bel ik de wijkagent." in later
    assert "Dank je wel! Je antwoord is bewaard voor de oogst." in later
    assert "Je hebt al verteld hoe je stap ging" in later
    with database.session() as session:
        practice = session.scalars(select(Praktijkvoorbeeld)).one()
        assert practice.bottlenecks is None and practice.success_factors == "Eén vast gezicht."
        members = {m.id: m.platform_user_id for m in session.scalars(select(Member))}
        stored = [
            (members[t.member_id], t.score, t.shared, t.step)
            for t in session.scalars(select(PraktijkVertaling).order_by(PraktijkVertaling.id))
        ]
        assert stored == [
            ("bob", 7, True, "Morgen bel ik de wijkagent."),
            ("eva", 3, False, "Ik vraag mijn teamleider om tijd."),
        ]
        followups = session.scalars(select(PraktijkVervolg).order_by(PraktijkVervolg.id)).all()
        assert [(f.status, f.how_it_went) for f in followups] == [
            ("sent", "Goed, hij kwam langs."),
            ("sent", None),
        ]
