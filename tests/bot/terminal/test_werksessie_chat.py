"""Werksessies in ``leerkring chat``: the terminal plays every role with ``/als`` and presses
the buttons with ``/knop``; an incidentmethode from start to closing, and a write-first round."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

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
    WerksessieFollowup,
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


def signed_up(*people: str) -> list[str]:
    lines: list[str] = []
    for person in people:
        lines += [f"/als {person}", "/knop werksessie_doe_mee 1"]
    return [*lines, "/als ik"]


def test_vijf_keer_waarom_in_the_terminal_with_the_lead_handed_over(database: Database) -> None:
    lines = [
        "/casus Moeder komt niet op afspraken",
        *INTAKE,
        "/werksessie 1",
        "2",  # Vijf keer waarom
        "",
        "",
        *signed_up("bob", "eva"),
        "/knop werksessie_begeleider 1",
        "2",  # bob, the second who signed up (after ik)
        "/knop werksessie_begin 1",  # ik leads no more
        "/als bob",
        "/knop werksessie_begin 1",
        "/als ik",
        "#1 Ze komt steeds niet op afspraken.",
        "/als bob",
        "/knop werksessie_volgende 1:0",
        "#1 Waarom komt ze niet?",
        "/als ik",
        "#1 Ze heeft geen vervoer.",
        "/als eva",
        "#1 Regel een taxi.",  # not a question: a nudge
        "#1 Waarom heeft ze geen vervoer?",
        "/als ik",
        "#1 De bus rijdt niet meer.",
        "/als bob",
        "/knop werksessie_volgende 1:1",
        "/als ik",
        "/afronden 1",
        "Wij vroegen er niet naar",
        "",
        "Morgen vraag ik naar vervoer",
        "",
        "/als bob",
        "/knop werksessie_volgende 1:2",
    ]
    output = run_chat(database, lines)
    assert "@bob is nu de procesbegeleider" in output
    assert "Alleen de procesbegeleider of een begeleider" in output
    for number, title in enumerate(["Het vraagstuk", "Waarom?", "De wortel"], start=1):
        assert output.count(f"↳ ━━ Fase {number} van 3: {title} ━━") == 1
    # The chain's card is edited after each of the five replies in the waarom phase.
    assert output.count("✎ ━━ Fase 2 van 3: Waarom? ━━") == 5
    assert "In de fase Waarom? stellen we alleen vragen" in output
    assert "is klaar: 3 van 3 fasen" in output
    with database.session() as session:
        werksessie = session.scalars(select(Werksessie)).one()
        assert werksessie.status == WerksessieStatus.FINISHED
        assert werksessie.begeleider.platform_user_id == "bob"
        stored = [
            (b.phase, b.author.platform_user_id, b.nudged)
            for b in session.scalars(select(WerksessieBijdrage).order_by(WerksessieBijdrage.id))
        ]
        assert stored == [
            (0, "ik", None),
            (1, "bob", None),
            (1, "ik", None),
            (1, "eva", "geen_vraag"),
            (1, "eva", None),
            (1, "ik", None),
        ]


def test_balint_schrijf_eerst_from_pitch_to_choice_in_the_terminal(database: Database) -> None:
    lines = [
        "/casus Moeder weigert hulp",
        *INTAKE,
        "/werksessie 1",
        "3",  # Balint-stijl: schrijf eerst
        "",
        "",  # with names
        *signed_up("bob", "eva"),
        "/knop werksessie_begin 1",
        "#1 Een moeder wil geen hulp; hoe bouw ik vertrouwen op?",
        "/knop werksessie_volgende 1:0",
        "/als bob",
        "/knop werksessie_schrijf 1:1",
        "Schaamte.",
        "",
        "/als ik",
        "/knop werksessie_volgende 1:1",
        "/als eva",
        "#1 Hoe lang ken je haar al?",
        "/als ik",
        "#1 Een half jaar.",
        "/knop werksessie_volgende 1:2",
        "/als eva",
        "/knop werksessie_schrijf 1:3",
        "Vraag wat zij wil.",
        "",
        "/als bob",
        "/knop werksessie_schrijf 1:3",
        "Betrek een ervaringsdeskundige.",
        "",
        "/als ik",
        "/knop werksessie_volgende 1:3",
        "/afronden 1",
        "Haar vraag eerst",
        "",
        "Morgen vraag ik wat zij wil",
        "",
        "/knop werksessie_volgende 1:4",
    ]
    output = run_chat(database, lines)
    for number, title in enumerate(
        [
            "De pitch",
            "Eerste associaties",
            "Verhelderende vragen",
            "Geschreven advies",
            "De keuze van de inbrenger",
        ],
        start=1,
    ):
        assert output.count(f"━━ Fase {number} van 5: {title} ━━") == 1
    first, second = output.split("━━ Wat iedereen schreef: ")[1:]
    assert first.startswith("Eerste associaties") and "Schaamte." in first
    assert second.startswith("Geschreven advies")
    assert "Vraag wat zij wil." in second and "Betrek een ervaringsdeskundige." in second
    before = output.split("━━ Wat iedereen schreef: Geschreven advies")[0]
    assert "Vraag wat zij wil." not in before
    assert "is klaar: 5 van 5 fasen" in output
    with database.session() as session:
        casus = session.scalars(select(Casus)).one()
        assert casus.status == CasusStatus.CLOSED
        kinds = Counter((p.phase, p.kind) for p in session.scalars(select(WerksessiePost)))
        assert kinds[(1, "onthulling")] == kinds[(3, "onthulling")] == 1


def test_waarderend_onderzoek_in_the_terminal(database: Database) -> None:
    lines = [
        "/casus Samenwerking loopt vast",
        *INTAKE,
        "/werksessie 1",
        "4",  # Waarderend onderzoek
        "",
        "",
        *signed_up("bob"),
        "/knop werksessie_begin 1",
        "/als bob",
        "#1 Het werkte toen we samen op huisbezoek gingen.",
        "/als ik",
        "/knop werksessie_volgende 1:0",
        "#1 Eén plan voor het gezin.",
        "/knop werksessie_volgende 1:1",
        "/als bob",
        "#1 We spreken een vaste overdracht af.",
        "/als ik",
        "/knop werksessie_volgende 1:2",
        "/afronden 1",
        "Bouwen op wat werkt",
        "",
        "Morgen plan ik een huisbezoek",
        "",
        "/knop werksessie_volgende 1:3",
    ]
    output = run_chat(database, lines)
    for number, title in enumerate(["Ontdekken", "Dromen", "Ontwerpen", "Doen"], start=1):
        assert output.count(f"━━ Fase {number} van 4: {title} ━━") == 1
    assert "is klaar: 4 van 4 fasen" in output
    with database.session() as session:
        stored = [
            (b.phase, b.author.platform_user_id)
            for b in session.scalars(select(WerksessieBijdrage).order_by(WerksessieBijdrage.id))
        ]
        assert stored == [(0, "bob"), (1, "ik"), (2, "bob")]


def test_alact_in_the_terminal_plans_the_next_cycle(database: Database) -> None:
    lines = [
        "/casus Ik gaf te snel advies",
        *INTAKE,
        "/werksessie 1",
        "5",  # ALACT
        "",
        "",
        *signed_up("bob"),
        "/knop werksessie_begin 1",
        "#1 Ik gaf meteen advies toen ze boos werd.",
        "/knop werksessie_volgende 1:0",
        "/als bob",
        "#1 Wat wilde je op dat moment?",
        "/als ik",
        "#1 Rust.",
        "/knop werksessie_volgende 1:1",
        "/als bob",
        "#1 Je wilde oplossen in plaats van luisteren.",
        "/als ik",
        "/knop werksessie_volgende 1:2",
        "/afronden 1",
        "Eerst luisteren",
        "",
        "Morgen vraag ik eerst wat zij nodig heeft",
        "",
        "/knop werksessie_volgende 1:3",
        "/knop werksessie_volgende 1:4",
    ]
    output = run_chat(database, lines)
    for number, title in enumerate(
        ["Handelen", "Terugblikken", "Wat is essentieel?", "Alternatieven en voornemen",
         "Uitproberen"],
        start=1,
    ):  # fmt: skip
        assert output.count(f"━━ Fase {number} van 5: {title} ━━") == 1
    assert "is klaar: 5 van 5 fasen" in output
    with database.session() as session:
        werksessie = session.scalars(select(Werksessie)).one()
        followup = session.scalars(select(WerksessieFollowup)).one()
        assert followup.member_id == werksessie.casus.inbrenger_id
        assert followup.status == "pending"
        assert werksessie.finished_at is not None
        # Planned a week after 'Uitproberen' began (the terminal moved on at once).
        assert (
            timedelta(days=7) - timedelta(minutes=1)
            <= (followup.due_at - werksessie.finished_at)
            <= timedelta(days=7)
        )
