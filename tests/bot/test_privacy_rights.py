"""/mijn-gegevens on Slack, and the export and erasure underneath, on both databases: the
export holds the person's data and nothing of others; erasure leaves no trace of them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.casus.queries import BijdrageRepository, CasusRepository
from handlers.core.personal import Expired
from handlers.features import build_router
from handlers.privacy.rights_queries import erase_member, export_member
from storage.db import Database
from storage.models import (
    Answer,
    Bijdrage,
    Casus,
    Member,
    MemberProfile,
    PromptDelivery,
    PromptRun,
    RunStatus,
    Werksessie,
    WerksessieBijdrage,
    WerksessieParticipant,
    WerksessieStatus,
)
from storage.repositories import ChannelRepository, MemberRepository
from tests.bot.slack.test_casus_flow import post
from tests.bot.test_privacy_anonymous import everything_stored
from tests.conftest import RunningServer
from tests.support.signing import block_action, command_body, interactive_body

PARTS = build_router().registry.personal_data

ANNA_TEXT = "Annas eigen casustekst over een gezin"
BOB_TEXT = "Bobs bijdrage: probeer de school te betrekken"


def seed(database: Database) -> dict[str, int]:
    """Anna (U111) brought in a casus and answered a prompt; Bob (U222) thought along on it
    and brought in his own; Anna thought along on Bob's."""
    now = datetime.now(UTC)
    with database.session() as session:
        members = MemberRepository(session)
        anna = members.ensure("slack", "U111", display_name="anna")
        anna.role = "ambulant hulpverlener"
        bob = members.ensure("slack", "U222", display_name="bob")
        session.add(MemberProfile(member_id=anna.id, expertise=["jeugd"]))
        channel = ChannelRepository(session).ensure("slack", "C100")
        casussen = CasusRepository(session)
        annas = casussen.add(
            channel=channel,
            inbrenger=anna,
            title="Annas casus",
            situation=ANNA_TEXT,
            obstacle=None,
            uncertainty=None,
            question="Wat nu?",
            perspectives=["jeugd"],
        )
        bobs = casussen.add(
            channel=channel,
            inbrenger=bob,
            title="Bobs casus",
            situation="Bobs situatie",
            obstacle=None,
            uncertainty=None,
            question="Hoe verder?",
            perspectives=[],
        )
        bijdragen = BijdrageRepository(session)
        bijdragen.add(annas, bob, BOB_TEXT, message_id="m1")
        bijdragen.add(bobs, anna, "Annas bijdrage bij Bob", message_id="m2")
        run = PromptRun(
            fire_key="test:1",
            channel_id=channel.id,
            kind="succesvragen",
            delivery="dm",
            fire_at=now,
            remind_at=now + timedelta(days=1),
            closes_at=now + timedelta(days=2),
            status=RunStatus.OPEN,
        )
        session.add(run)
        session.flush()
        session.add(
            Answer(run_id=run.id, member_id=anna.id, question_id="q1", text="Annas antwoord")
        )
        session.add(Answer(run_id=run.id, member_id=bob.id, question_id="q1", text="Bobs antwoord"))
        session.add(PromptDelivery(run_id=run.id, user_id="U111", status="sent"))
        session.flush()
        return {"annas": annas.id, "bobs": bobs.id}


def test_export_has_the_persons_data_and_nothing_of_others(database: Database) -> None:
    seed(database)
    with database.session() as session:
        data = export_member(session, PARTS, "slack", "U111")
    text = json.dumps(data, ensure_ascii=False)
    assert data["member"]["role"] == "ambulant hulpverlener"
    assert data["member"]["expertise"] == ["jeugd"]
    assert [c["situation"] for c in data["casussen"]] == [ANNA_TEXT]
    assert [b["text"] for b in data["bijdragen"]] == ["Annas bijdrage bij Bob"]
    assert [a["text"] for a in data["reflection_answers"]] == ["Annas antwoord"]
    assert data["prompts_received"][0]["status"] == "sent"
    for of_bob in ("U222", "bob", BOB_TEXT, "Bobs casus", "Bobs situatie", "Bobs antwoord"):
        assert of_bob not in text


def test_erasure_leaves_no_trace_and_keeps_others_in_context(database: Database) -> None:
    ids = seed(database)
    with database.session() as session:
        anonymous = MemberRepository(session).ensure("slack", "~anoniem", display_name="anoniem")
        result = erase_member(session, PARTS, "slack", "U111", anonymous)
    assert (result.casussen_anonymised, result.bijdragen, result.answers) == (1, 1, 1)
    with database.session() as session:
        assert session.scalar(select(Member).where(Member.platform_user_id == "U111")) is None
        annas = session.get(Casus, ids["annas"])
        assert (
            annas is not None and annas.anonymous and annas.inbrenger.platform_user_id == "~anoniem"
        )
        # Bob's contribution on Anna's casus keeps its context.
        assert [b.text for b in session.scalars(select(Bijdrage))] == [BOB_TEXT]
        assert [a.text for a in session.scalars(select(Answer))] == ["Bobs antwoord"]
        assert session.scalars(select(PromptDelivery)).all() == []
        assert session.scalars(select(MemberProfile)).all() == []
    with database.session() as session:
        again = export_member(session, PARTS, "slack", "U111")
    assert again["member"] is None and again["bijdragen"] == [] and again["casussen"] == []


async def test_my_data_in_slack_sends_the_file_and_erases_after_confirmation(
    server: RunningServer,
) -> None:
    seed(server.database)
    status, text = await post(server, command_body("/mijn-gegevens", "", user="U111"))
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    assert "privacy_verwijder_vraag" in json.dumps(answer)
    await server.slack.wait_for("files.completeUploadExternal")
    (content,) = server.slack.uploads.values()
    exported = json.loads(content)
    assert exported["user_id"] == "U111" and exported["casussen"][0]["situation"] == ANNA_TEXT
    assert "U222" not in content.decode()
    assert server.slack.calls_to("files.completeUploadExternal")[-1]["channel_id"] != "C100"

    # The button asks first; nothing is erased yet.
    await post(server, interactive_body(block_action("privacy_verwijder_vraag", "", user="U111")))
    await server.slack.wait_for("chat.postEphemeral")
    assert "U111" in everything_stored(server)
    await post(server, interactive_body(block_action("privacy_verwijder_ja", "", user="U111")))
    notices = await server.slack.wait_for("chat.postEphemeral", 2)
    assert notices[-1]["user"] == "U111"
    for _ in range(100):
        if "U111" not in everything_stored(server):
            break
        await asyncio.sleep(0.02)
    stored = everything_stored(server)
    assert "U111" not in stored and "Annas antwoord" not in stored and "ambulant" not in stored
    assert BOB_TEXT in stored and ANNA_TEXT in stored  # the casus stays, without Anna


WS_TEXT = "Annas eerste associatie: het gezin zoekt rust"


def seed_werksessie(database: Database, casus_id: int) -> int:
    """Anna guides a werksessie on Bob's casus, signed up with Bob, and wrote a private
    write-first answer; Bob replied in the thread."""
    with database.session() as session:
        anna = session.scalar(select(Member).where(Member.platform_user_id == "U111"))
        bob = session.scalar(select(Member).where(Member.platform_user_id == "U222"))
        assert anna is not None and bob is not None
        werksessie = Werksessie(
            casus_id=casus_id,
            method="incidentmethode",
            mode="live",
            begeleider_id=anna.id,
            started_by_id=anna.id,
            status=WerksessieStatus.RUNNING,
            phase=1,
        )
        session.add(werksessie)
        session.flush()
        for member in (anna, bob):
            session.add(WerksessieParticipant(session_id=werksessie.id, member_id=member.id))
        session.add(
            WerksessieBijdrage(
                session_id=werksessie.id, phase=1, author_id=anna.id, text=WS_TEXT, private=True
            )
        )
        session.add(
            WerksessieBijdrage(
                session_id=werksessie.id,
                phase=1,
                author_id=bob.id,
                text="Bobs vraag: wat weet je niet zeker?",
                message_id="ws1",
            )
        )
        session.flush()
        return werksessie.id


async def test_erasure_of_a_werksessie_participant_and_procesbegeleider(
    server: RunningServer,
) -> None:
    """Every feature declares what it stores about a person: someone who guided a werksessie
    and wrote in it can see it in their export and erase it; the session stays, guided by the
    anonymous member, and Bob's words stay."""
    ids = seed(server.database)
    session_id = seed_werksessie(server.database, ids["bobs"])
    status, _ = await post(server, command_body("/mijn-gegevens", "", user="U111"))
    assert status == 200
    await server.slack.wait_for("files.completeUploadExternal")
    (content,) = server.slack.uploads.values()
    exported = json.loads(content)
    sessions = exported["werksessies"]["sessions"]
    assert [(s["session_id"], s["procesbegeleider"]) for s in sessions] == [(session_id, True)]
    assert [b["text"] for b in exported["werksessies"]["bijdragen"]] == [WS_TEXT]
    assert "Bobs vraag" not in content.decode()

    status, _ = await post(
        server, interactive_body(block_action("privacy_verwijder_ja", "", user="U111"))
    )
    assert status == 200
    for _ in range(200):
        if "U111" not in everything_stored(server):
            break
        await asyncio.sleep(0.02)
    stored = everything_stored(server)
    assert "U111" not in stored and WS_TEXT not in stored
    assert "Bobs vraag: wat weet je niet zeker?" in stored
    with server.database.session() as session:
        werksessie = session.get(Werksessie, session_id)
        assert werksessie is not None
        assert werksessie.begeleider.platform_user_id != "U111"
        participants = session.scalars(select(WerksessieParticipant.member_id)).all()
        assert len(participants) == 1


def test_retention_replaces_werksessie_texts(database: Database) -> None:
    ids = seed(database)
    seed_werksessie(database, ids["bobs"])
    later = datetime.now(UTC) + timedelta(days=400)
    with database.session() as session:
        counts = PARTS.purge(session, Expired(later, removed="[verlopen]", title="[verlopen]"))
    assert counts["bijdragen"] == 4  # two casus bijdragen, two in the werksessie
    with database.session() as session:
        texts = set(session.scalars(select(WerksessieBijdrage.text)))
    assert texts == {"[verlopen]"}
