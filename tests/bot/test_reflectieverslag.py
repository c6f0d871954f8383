"""The reflectieverslag end to end on Slack, through the running server with signed requests
and a controlled clock, on both databases: the private question after a werksessie (once per
person, with any number of schedulers), the three-dimension form through the privacy guard,
the record as HTML and JSON in a DM, the facilitator's statement, and the AVG side: export,
erasure and retention with the person's own period."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from handlers.features import build_router
from handlers.privacy.retention import purge_expired
from handlers.privacy.rights_queries import erase_member, export_member
from storage.models import Member, ReflectieBewaring, WerksessieReflectie
from storage.repositories import MemberRepository
from tests.bot.test_werksessie import post, rows, until
from tests.conftest import RunningServer
from tests.support.reflectieverslag_seed import (
    ANNA_ANSWER,
    ANNA_FOLLOW_UP,
    ANNA_TAKEAWAY,
    BOB_ANSWER,
    BOB_TAKEAWAY,
    CLIENT_SITUATION,
    CLIENT_TITLE,
    T0,
    People,
    Seeded,
    seed,
)
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import (
    block_action,
    command_body,
    interactive_body,
    view_submission,
)

PEOPLE = People(anna="U111", bob="U222", carla="U333", facilitator="UFAC01")
ANNA_REFLECTION = {
    "technisch": "Ik leerde doorvragen met de vijf keer waarom.",
    "normatief": "Het dilemma tussen autonomie en bescherming speelde mee.",
    "persoonlijk": "Ik merk dat ik snel wil oplossen.",
}
BOB_REFLECTION = "Bobs persoonlijke reflectie: ik voelde me gehoord."
PARTS = build_router().registry.personal_data


def seeded(server: RunningServer) -> Seeded:
    return seed(server.database, "slack", PEOPLE, ("C100", "C200"))


def asks_to(slack: Any, user: str) -> list[dict[str, Any]]:
    return [
        call
        for call in slack.calls_to("chat.postMessage")
        if call["channel"] == f"D{user}" and "reflectieverslag_reflecteer" in json.dumps(call)
    ]


def row_of(server: RunningServer, user: str, session_id: int) -> WerksessieReflectie:
    with server.database.session() as session:
        member = session.scalar(select(Member).where(Member.platform_user_id == user))
        assert member is not None
        row = session.scalar(
            select(WerksessieReflectie).where(
                WerksessieReflectie.member_id == member.id,
                WerksessieReflectie.session_id == session_id,
            )
        )
        assert row is not None
        session.expunge(row)
        return row


async def reflect(
    server: RunningServer, user: str, row_id: int, values: dict[str, str]
) -> dict[str, Any]:
    slack = server.slack
    opened = len(slack.calls_to("views.open"))
    status, text = await post(
        server,
        interactive_body(block_action("reflectieverslag_reflecteer", str(row_id), user=user)),
    )
    assert status == 200, text
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    assert view["callback_id"] == "reflectieverslag_reflectie"
    status, answer = await post(server, interactive_body(view_submission(view, values, user=user)))
    assert status == 200
    return json.loads(answer) if answer else {}


async def ask_everyone(server: RunningServer, seeded_: Seeded) -> None:
    """The sessions closed; two schedulers (two processes) tick, twice each."""
    clock = Clock(T0 + timedelta(hours=4))
    server.services.runtime.clock = clock
    first, second = scheduler_for(server.services), scheduler_for(server.services)
    for scheduler in (first, second, first, second):
        await scheduler.tick()


async def uploads_for(server: RunningServer, user: str, count: int) -> dict[str, bytes]:
    """The files uploaded to ``user``'s DM, by kind (``html``/``json``)."""
    slack = server.slack
    await slack.wait_for("files.completeUploadExternal", count)
    completed = slack.calls_to("files.completeUploadExternal")
    out: dict[str, bytes] = {}
    for call in completed:
        if call["channel_id"] != f"D{user}":
            continue
        for item in json.loads(call["files"]):
            content = slack.uploads[item["id"]]
            out["json" if content.lstrip().startswith(b"{") else "html"] = content
    return out


async def test_everyone_is_asked_once_privately_and_only_their_own_reflection_is_stored(
    server: RunningServer,
) -> None:
    slack = server.slack
    ids = seeded(server)
    await ask_everyone(server, ids)

    # incident: Fenna (procesbegeleider), Anna, Bob (inbrenger), Carla; guided: Anna, Carla;
    # two days earlier: Fenna, Bob, Carla. 2024's is too old to ask about; the running one
    # is not over.
    assert len(asks_to(slack, "UFAC01")) == 2
    assert len(asks_to(slack, "U111")) == 2
    assert len(asks_to(slack, "U222")) == 2
    assert len(asks_to(slack, "U333")) == 3
    roles = {
        (r.session_id, r.role)
        for r in rows(server.services, WerksessieReflectie)
        if r.session_id in (ids.incident, ids.guided)
    }
    assert roles == {
        (ids.incident, "procesbegeleider"),
        (ids.incident, "deelnemer"),
        (ids.incident, "inbrenger"),
        (ids.guided, "procesbegeleider"),
        (ids.guided, "inbrenger"),
    }
    assert {r.session_id for r in rows(server.services, WerksessieReflectie)} == {
        ids.incident,
        ids.guided,
        ids.without_anna,
    }
    assert all(r.status == "sent" for r in rows(server.services, WerksessieReflectie))
    question = json.dumps(asks_to(slack, "U222")[0], ensure_ascii=False)
    assert "inbrenger" in question and "Incidentmethode" in question
    assert CLIENT_TITLE not in question

    anna_row = row_of(server, "U111", ids.incident)
    # A BSN keeps the form open with an error and stores nothing.
    refused = await reflect(server, "U111", anna_row.id, {"technisch": "Cliënt BSN 111222333"})
    assert refused["response_action"] == "errors"
    assert row_of(server, "U111", ids.incident).answered_at is None

    # Bob cannot open or fill in Anna's reflection.
    opened = len(slack.calls_to("views.open"))
    await post(
        server,
        interactive_body(
            block_action("reflectieverslag_reflecteer", str(anna_row.id), user="U222")
        ),
    )
    await until(
        lambda: any(
            c.get("user") == "U222" and "niet (meer) bij jou" in json.dumps(c, ensure_ascii=False)
            for c in slack.calls_to("chat.postEphemeral")
        ),
        "the refusal",
    )
    assert len(slack.calls_to("views.open")) == opened

    saved = await reflect(server, "U111", anna_row.id, ANNA_REFLECTION)
    assert "errors" not in saved
    stored = row_of(server, "U111", ids.incident)
    assert (stored.technisch, stored.normatief, stored.persoonlijk) == tuple(
        ANNA_REFLECTION.values()
    )
    assert stored.answered_at == T0 + timedelta(hours=4)
    posted = json.dumps(slack.calls_to("chat.postMessage"), ensure_ascii=False)
    assert not any(text in posted for text in ANNA_REFLECTION.values())  # never shown anyone


async def test_the_record_holds_exactly_her_sessions_roles_durations_reflections_and_answers(
    server: RunningServer,
) -> None:
    slack = server.slack
    ids = seeded(server)
    await ask_everyone(server, ids)
    await reflect(server, "U111", row_of(server, "U111", ids.incident).id, ANNA_REFLECTION)
    await reflect(
        server, "U222", row_of(server, "U222", ids.incident).id, {"persoonlijk": BOB_REFLECTION}
    )

    status, text = await post(server, command_body("/reflectieverslag", "2026", user="U111"))
    assert status == 200
    assert "2 werksessies, 1 reflectie" in text
    files = await uploads_for(server, "U111", 2)
    assert set(files) == {"html", "json"}
    record = json.loads(files["json"])

    assert record["period"] == {"first": "2026-01-01", "last": "2026-12-31"}
    # Her name as Slack gave it with the command (the stand-in's user name).
    assert record["participant"] == {
        "name": "u111",
        "organisation": "Gemeente Utrecht",
        "role": "jeugdconsulent",
    }
    sessions = [
        (s["date"], s["method"], s["role"], s["live_minutes"], s["series"])
        for s in record["werksessies"]
    ]
    assert sessions == [
        ("2026-03-23", "incidentmethode", "deelnemer", 65, "intervisie-jeugd"),
        ("2026-03-23", "vijf_keer_waarom", "procesbegeleider", 45, "intervisie-schulden"),
    ]
    first, second = record["werksessies"]
    assert first["reflection"] == ANNA_REFLECTION
    assert second["reflection"] is None
    # Others only as counts per organisation: Fenna, Bob and Carla; then Carla.
    assert first["others"] == {
        "people": 3,
        "organisations": {"Buurtteam Noord": 2, "Leerkring": 1},
    }
    assert second["others"] == {"people": 1, "organisations": {"Buurtteam Noord": 1}}
    assert [(a["deck"], a["answer"]) for a in record["reflection_answers"]] == [
        ("wat-ging-goed", ANNA_ANSWER)
    ]
    assert record["reflection_answers"][0]["question"] == "Wat ging er deze week goed in je werk?"
    assert [t["takeaway"] for t in record["speedsparren_takeaways"]] == [ANNA_TAKEAWAY]
    totals = record["totals"]
    assert totals["period"]["werksessies"] == 2 and totals["period"]["live_minutes"] == 110
    assert totals["period"]["hours"] == 1.8 and totals["period"]["reflections"] == 1
    assert totals["period"]["roles"] == {"inbrenger": 0, "deelnemer": 1, "procesbegeleider": 1}
    assert [(s["series"], s["werksessies"], s["live_minutes"]) for s in totals["series"]] == [
        ("intervisie-jeugd", 1, 65),
        ("intervisie-schulden", 1, 45),
    ]

    html = files["html"].decode()
    assert html.startswith("<!DOCTYPE html>")
    for text_ in (*ANNA_REFLECTION.values(), ANNA_ANSWER, ANNA_TAKEAWAY, "Incidentmethode"):
        assert text_ in html
    assert "procesbegeleider" in html and "Technisch-instrumenteel" in html
    assert "2 uit Buurtteam Noord" in html and "1,8" in html
    everything = files["json"].decode() + html
    for foreign in (
        "Bob",
        "Carla",
        "Fenna",
        "U222",
        "u222",
        "U333",
        BOB_REFLECTION,
        BOB_ANSWER,
        BOB_TAKEAWAY,
        CLIENT_TITLE,
        CLIENT_SITUATION,
        "Jansen",
        ANNA_FOLLOW_UP,
    ):
        assert foreign not in everything, foreign

    # The record went to Anna's DM only.
    for call in slack.calls_to("files.completeUploadExternal"):
        assert call["channel_id"] == "DU111"


async def test_periods_and_bad_input(server: RunningServer) -> None:
    ids = seeded(server)
    await ask_everyone(server, ids)
    _, text = await post(server, command_body("/reflectieverslag", "2024", user="U111"))
    assert "1 werksessie" in text
    files = await uploads_for(server, "U111", 2)
    record = json.loads(files["json"])
    assert [(s["date"], s["live_minutes"]) for s in record["werksessies"]] == [("2024-05-01", 50)]
    assert record["reflection_answers"] == [] and record["speedsparren_takeaways"] == []

    for bad in ("gisteren", "31-02-2025 1-3-2025", "2099", "<script>"):
        status, text = await post(server, command_body("/reflectieverslag", bad, user="U111"))
        assert status == 200 and "Die periode begrijp ik niet" in text, text
        assert "<script>" not in text
    _, text = await post(server, command_body("/reflectieverslag", "2023", user="U111"))
    assert "nog geen werksessies" in text
    assert len(server.slack.calls_to("files.completeUploadExternal")) == 2


async def test_the_facilitators_statement_has_participation_and_no_reflection(
    server: RunningServer,
) -> None:
    ids = seeded(server)
    await ask_everyone(server, ids)
    await reflect(server, "U111", row_of(server, "U111", ids.incident).id, ANNA_REFLECTION)

    # Not for a participant.
    _, text = await post(
        server, command_body("/reflectieverslag", "verklaring <@U111|anna> 2026", user="U222")
    )
    assert "Alleen een begeleider" in text

    _, text = await post(
        server, command_body("/reflectieverslag", "verklaring <@U111|anna> 2026", user="UFAC01")
    )
    assert "2 werksessies, 1,8 uur" in text
    await server.slack.wait_for("files.completeUploadExternal")
    (call,) = server.slack.calls_to("files.completeUploadExternal")
    assert call["channel_id"] == "DUFAC01"
    (item,) = json.loads(call["files"])
    statement = server.slack.uploads[item["id"]].decode()
    expected_texts = (
        "u111",
        "Gemeente Utrecht",
        "23-03-2026",
        "Incidentmethode",
        "procesbegeleider",
        "65 min",
        "Naam supervisor",
        "Register en registratienummer",
        "Handtekening",
    )
    for expected in expected_texts:
        assert expected in statement, expected
    for private in (*ANNA_REFLECTION.values(), ANNA_ANSWER, ANNA_TAKEAWAY, CLIENT_TITLE):
        assert private not in statement

    _, text = await post(
        server, command_body("/reflectieverslag", "verklaring niemand 2026", user="UFAC01")
    )
    assert "Ik ken niemand als niemand" in text


async def test_export_erasure_and_retention_with_her_own_period(server: RunningServer) -> None:
    ids = seeded(server)
    await ask_everyone(server, ids)
    await reflect(server, "U111", row_of(server, "U111", ids.incident).id, ANNA_REFLECTION)
    await reflect(
        server, "U222", row_of(server, "U222", ids.incident).id, {"persoonlijk": BOB_REFLECTION}
    )
    _, text = await post(server, command_body("/reflectieverslag", "bewaar 7", user="U111"))
    assert "7 jaar" in text
    _, text = await post(server, command_body("/reflectieverslag", "bewaar 3", user="U222"))
    assert "5 tot 10 jaar" in text

    with server.database.session() as session:
        exported = export_member(session, PARTS, "slack", "U111")
    assert [r["technisch_instrumenteel"] for r in exported["werksessie_reflecties"]] == [
        ANNA_REFLECTION["technisch"],
        None,
    ]
    assert exported["reflectieverslag_bewaartermijn_jaren"] == 7
    assert BOB_REFLECTION not in json.dumps(exported, ensure_ascii=False)

    # Retention (12 months) six years on: Bob's (default five years) goes, Anna's seven stay.
    clock = Clock(T0 + timedelta(days=365 * 6))
    server.services.runtime.clock = clock
    server.services.runtime.call_sync(lambda ctx: purge_expired(ctx, 12))
    assert row_of(server, "U111", ids.incident).technisch == ANNA_REFLECTION["technisch"]
    removed = row_of(server, "U222", ids.incident).persoonlijk
    assert removed is not None and removed != BOB_REFLECTION
    # Eight years on, hers go too.
    clock.set(T0 + timedelta(days=365 * 8))
    server.services.runtime.call_sync(lambda ctx: purge_expired(ctx, 12))
    assert row_of(server, "U111", ids.incident).technisch != ANNA_REFLECTION["technisch"]

    # Erasure removes her reflections and her keep period, and nobody else's rows.
    with server.database.session() as session:
        anonymous = MemberRepository(session).ensure("slack", "~anoniem", display_name="anoniem")
        erase_member(session, PARTS, "slack", "U111", anonymous)
    with server.database.session() as session:
        assert session.scalars(select(ReflectieBewaring)).all() == []
        owners = {
            session.get(Member, r.member_id).platform_user_id  # type: ignore[union-attr]
            for r in session.scalars(select(WerksessieReflectie))
        }
    assert "U111" not in owners and {"U222", "U333", "UFAC01"} <= owners


async def test_a_real_werksessie_ends_and_everyone_reflects_into_their_record(
    server: RunningServer,
) -> None:
    """Through /werksessie itself: set up, started at T0, stopped by the procesbegeleider after
    forty minutes; the next tick asks each of the six once; UB1 reflects and gets the record."""
    from tests.bot.test_werksessie import set_up, start_session

    slack, services = server.slack, server.services
    clock = Clock(T0)
    services.runtime.clock = clock
    scheduler = scheduler_for(services)
    _casus, werksessie = await set_up(server, "vijf_keer_waarom")
    await start_session(server, werksessie)
    clock.set(T0 + timedelta(minutes=40))
    await post(
        server,
        interactive_body(block_action("werksessie_stop", str(werksessie.id), user="UFAC01")),
    )
    await until(lambda: rows(services, type(werksessie))[0].finished_at is not None, "stopped")
    await scheduler.tick()
    await scheduler.tick()
    everyone = ("UG1", "UG2", "UB1", "UB2", "UJ1", "UFAC01")
    assert {user: len(asks_to(slack, user)) for user in everyone} == dict.fromkeys(everyone, 1)
    roles = {r.role for r in rows(services, WerksessieReflectie)}
    assert roles == {"inbrenger", "deelnemer", "procesbegeleider"}

    row = row_of(server, "UB1", werksessie.id)
    assert row.role == "deelnemer"
    await reflect(server, "UB1", row.id, {"normatief": "Autonomie tegenover bescherming."})
    _, text = await post(server, command_body("/reflectieverslag", "12 maanden", user="UB1"))
    assert "1 werksessie, 1 reflectie" in text
    record = json.loads((await uploads_for(server, "UB1", 2))["json"])
    (item,) = record["werksessies"]
    assert (item["method"], item["role"], item["live_minutes"]) == (
        "vijf_keer_waarom",
        "deelnemer",
        40,
    )
    assert item["reflection"]["normatief"] == "Autonomie tegenover bescherming."
    assert item["others"] == {
        "people": 5,
        "organisations": {
            "Buurtteam Noord": 1,
            "Gemeente Utrecht": 2,
            "Jeugdzorg Midden": 1,
            "organisatie onbekend": 1,
        },
    }


async def test_reflect_later_lists_her_sessions_with_a_button_each(server: RunningServer) -> None:
    ids = seeded(server)
    _, text = await post(server, command_body("/reflectieverslag", "reflecteer", user="U111"))
    assert "nog niet gevraagd" in text
    await ask_everyone(server, ids)
    await reflect(server, "U111", row_of(server, "U111", ids.incident).id, ANNA_REFLECTION)
    _, text = await post(server, command_body("/reflectieverslag", "reflecteer", user="U111"))
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    buttons = [
        element["value"]
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert buttons == [
        str(row_of(server, "U111", ids.guided).id),
        str(row_of(server, "U111", ids.incident).id),
    ]
    shown = json.dumps(answer, ensure_ascii=False)
    assert "reflectie ingevuld" in shown and "Aanpassen" in shown
    assert ANNA_REFLECTION["technisch"] not in shown and CLIENT_TITLE not in shown


async def test_two_processes_ticking_together_ask_each_person_once(
    server: RunningServer, database_target: Any
) -> None:
    """A second set of services on the same database (its own runtime and claims, as another
    process has), both ticking at the same moment; then a lost answer from Slack."""
    import asyncio

    from bot.services import build_services
    from tests.conftest import make_settings

    slack = server.slack
    ids = seeded(server)
    clock = Clock(T0 + timedelta(hours=4))
    server.services.runtime.clock = clock
    other = build_services(make_settings(database_target.url, SLACK_API_URL=slack.url))
    schedulers = []
    try:
        other.runtime.clock = clock
        schedulers = [scheduler_for(server.services), scheduler_for(other)]
        slack.lose_answers["chat.postMessage"] = 1  # sent, but the answer never arrives
        await asyncio.gather(*(s.tick() for s in schedulers))
        await asyncio.gather(*(s.tick() for s in schedulers))
        await asyncio.gather(*(s.tick() for s in schedulers))
    finally:
        for scheduler in schedulers:
            await scheduler.stop()
        other.close()
    assert slack.lose_answers["chat.postMessage"] == 0  # the lost answer happened
    counts = {user: len(asks_to(slack, user)) for user in ("UFAC01", "U111", "U222", "U333")}
    # Each person once per session; the lost answer's DM was found in the DM, not sent again.
    assert counts == {"UFAC01": 2, "U111": 2, "U222": 2, "U333": 3}
    assert all(r.status == "sent" for r in rows(server.services, WerksessieReflectie))
    assert len(rows(server.services, WerksessieReflectie)) == 9
    assert ids.incident in {r.session_id for r in rows(server.services, WerksessieReflectie)}
