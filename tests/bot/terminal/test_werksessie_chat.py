"""Werksessies in ``leerkring chat``: the terminal plays every role with ``/als`` and presses
the buttons with ``/knop``; an incidentmethode from start to closing, and a write-first round."""

from __future__ import annotations

import io
from collections import Counter

from sqlalchemy import select

from bot.runtime import Runtime
from bot.terminal.chat import TerminalChat
from handlers.features import build_router
from handlers.privacy.guard import StructuredGuard
from prompts import load_texts
from storage.db import Database
from storage.models import (
    Casus,
    CasusStatus,
    Werksessie,
    WerksessieBijdrage,
    WerksessiePost,
    WerksessieStatus,
)

INTAKE = [
    "",  # keep the prefilled title
    "Het gezin heeft schulden en de moeder wil geen hulp.",
    "",
    "",
    "",
    "Wat zouden jullie doen?",
    "",
    "1,3",
]


def run_chat(database: Database, lines: list[str]) -> str:
    texts = load_texts("nl")
    runtime = Runtime(database, build_router(), texts, StructuredGuard())
    out = io.StringIO()
    script = "\n".join([*lines, "/stop", ""])
    TerminalChat(runtime, texts, user="ik", stdin=io.StringIO(script), stdout=out).run()
    return out.getvalue()


def test_an_incidentmethode_from_start_to_closing_in_the_terminal(database: Database) -> None:
    lines = [
        "/casus Moeder weigert hulp",
        *INTAKE,
        "/werksessie 1",
        "",  # Incidentmethode
        "",  # live
        "",  # with names
        "/als bob",
        "/knop werksessie_doe_mee 1",
        "/knop werksessie_begin 1",  # bob does not lead
        "/als ik",
        "/knop werksessie_begin 1",
        "#1 Het vorige advies werkte.",
        "/knop werksessie_volgende 1:0",
        "#1 Ik weet niet zeker of de school erbij moet.",
        "/knop werksessie_volgende 1:1",
        "/als bob",
        "#1 Ik zou de school bellen.",
        "#1 Wat heb je al geprobeerd?",
        "/als ik",
        "/knop werksessie_volgende 1:2",
        "/als bob",
        "#1 Ik zie wantrouwen.",
        "/als ik",
        "#1 Dat klopt niet.",
        "/knop werksessie_volgende 1:3",
        "/als bob",
        "#1 Begin bij wat zij belangrijk vindt.",
        "/als ik",
        "/knop werksessie_volgende 1:4",
        "/afronden 1",
        "Eerst vertrouwen",
        "",
        "Morgen bel ik haar",
        "",
        "/knop werksessie_volgende 1:5",
        "/knop werksessie_volgende 1:6",
    ]
    output = run_chat(database, lines)
    assert "Alleen de procesbegeleider of een begeleider" in output
    for number, title in enumerate(
        [
            "Terugblik op eerdere adviezen",
            "Het incident",
            "Informatieve vragen",
            "Analyse",
            "Adviezen",
            "Reactie van de inbrenger",
            "Evaluatie",
        ],
        start=1,
    ):
        assert output.count(f"━━ Fase {number} van 7: {title} ━━") == 1
    assert "is klaar: 7 van 7 fasen" in output
    assert "In de fase Informatieve vragen stellen we alleen vragen" in output
    assert "In de fase Analyse luistert de inbrenger" in output
    with database.session() as session:
        werksessie = session.scalars(select(Werksessie)).one()
        assert werksessie.status == WerksessieStatus.FINISHED and werksessie.phases_done == 7
        stored = [
            (b.phase, b.author.platform_user_id, b.nudged)
            for b in session.scalars(select(WerksessieBijdrage).order_by(WerksessieBijdrage.id))
        ]
        assert stored == [
            (0, "ik", None),
            (1, "ik", None),
            (2, "bob", "geen_vraag"),
            (2, "bob", None),
            (3, "bob", None),
            (3, "ik", "inbrenger_luistert"),
            (4, "bob", None),
        ]
        casus = session.scalars(select(Casus)).one()
        assert casus.status == CasusStatus.CLOSED and casus.next_step == "Morgen bel ik haar"


def test_a_write_first_round_in_the_terminal(database: Database) -> None:
    lines = [
        "/casus Moeder weigert hulp",
        *INTAKE,
        "/werksessie 1",
        "3",  # Balint-stijl: schrijf eerst
        "",
        "2",  # without names
        "/knop werksessie_begin 1",
        "/knop werksessie_volgende 1:0",
        "/knop werksessie_schrijf 1:1",  # the inbrenger listens
        "/als bob",
        "/knop werksessie_schrijf 1:1",
        "Schaamte, denk ik.",
        "",
        "/als eva",
        "/knop werksessie_schrijf 1:1",
        "Ze voelt zich alleen.",
        "",
        "/als ik",
        "/knop werksessie_volgende 1:1",
    ]
    output = run_chat(database, lines)
    assert "de inbrenger luistert" in output
    before, after = output.split("━━ Wat iedereen schreef: Eerste associaties ━━")
    assert "Schaamte, denk ik." not in before and "Ze voelt zich alleen." not in before
    assert "Schaamte, denk ik." in after and "Ze voelt zich alleen." in after
    assert "@bob" not in after.split("━━ Fase 3")[0]  # revealed without names
    assert output.count("━━ Wat iedereen schreef") == 1
    with database.session() as session:
        kinds = Counter((p.phase, p.kind) for p in session.scalars(select(WerksessiePost)))
        assert kinds[(1, "onthulling")] == 1
        private = session.scalars(
            select(WerksessieBijdrage).where(WerksessieBijdrage.private.is_(True))
        ).all()
        assert sorted(b.text for b in private) == ["Schaamte, denk ik.", "Ze voelt zich alleen."]
