"""/reflectieverslag in Teams: the record comes as two file consent cards in the 1:1 chat
(HTML and JSON); on *Allow* each is made again from the database for whoever allowed it and
uploaded to the upload URL Teams gives. Every activity carries a Bot Framework JWT."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Member, WerksessieReflectie
from tests.bot.teams.conftest import TeamsServer
from tests.support.reflectieverslag_seed import (
    ANNA_ANSWER,
    ANNA_TAKEAWAY,
    BOB_ANSWER,
    BOB_TAKEAWAY,
    CLIENT_SITUATION,
    CLIENT_TITLE,
    People,
    seed,
)
from tests.support.teams_standin import (
    ANNA,
    CHANNEL,
    FILE_CONSENT,
    KARIM,
    IdentityStandIn,
    file_consent_invoke,
    inputs_of,
    message,
)

pytestmark = pytest.mark.usefixtures("outbound_token")
PEOPLE = People(anna=ANNA.aad, bob=KARIM.aad, carla="c3c3c3c3-0000-4000-8000-00000000000c",
                facilitator="f4f4f4f4-0000-4000-8000-00000000000f")  # fmt: skip
REFLECTION = "Ik leerde de situatie eerst te verhelderen voor ik advies gaf."
KARIMS = "Karims eigen reflectie over de sessie."


def seeded(server: TeamsServer) -> None:
    ids = seed(server.services.database, "teams", PEOPLE, (CHANNEL, "19:schulden@thread.tacv2"))
    with server.services.database.session() as session:
        for user, text in ((ANNA.aad, REFLECTION), (KARIM.aad, KARIMS)):
            member = session.scalar(select(Member).where(Member.platform_user_id == user))
            assert member is not None
            session.add(
                WerksessieReflectie(
                    session_id=ids.incident,
                    member_id=member.id,
                    role="deelnemer",
                    status="sent",
                    technisch=text,
                    answered_at=member.created_at,
                )
            )


async def consents(server: TeamsServer, identity: IdentityStandIn, text: str) -> list[Any]:
    status, answer = await server.post(
        message(server.connector.url, text, kind="personal"),
        token=identity.token(server.connector.url),
    )
    assert status == 200, answer
    return [
        s
        for s in server.connector.messages()
        if (s.body.get("attachments") or [{}])[0].get("contentType") == FILE_CONSENT
    ]


async def test_the_record_comes_as_consent_cards_and_is_made_for_whoever_allows_it(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seeded(secured)
    cards = await consents(secured, identity, "reflectieverslag 2026")
    assert [c.conversation_id for c in cards] == [ANNA.personal_chat] * 2
    names = [c.body["attachments"][0]["name"] for c in cards]
    assert names == [
        "leerkring-reflectieverslag-2026-01-01_2026-12-31.html",
        "leerkring-reflectieverslag-2026-01-01_2026-12-31.json",
    ]
    # The cards carry no content; nothing is uploaded before Anna allows it.
    assert REFLECTION not in secured.connector.everything()
    assert secured.connector.uploads == []

    url = secured.connector.url
    for index, card in enumerate(cards):
        context = card.body["attachments"][0]["content"]["acceptContext"]
        assert context["source"] == "reflectieverslag" and context["user"] == ANNA.aad
        status, text = await secured.post(
            file_consent_invoke(
                url, context, "accept", upload_url=secured.connector.upload_url(f"r{index}")
            ),
            token=identity.token(url),
        )
        assert status == 200, text
    html, body = (upload.body for upload in secured.connector.uploads)
    record = json.loads(body)
    assert [(s["method"], s["role"], s["live_minutes"]) for s in record["werksessies"]] == [
        ("incidentmethode", "deelnemer", 65),
        ("vijf_keer_waarom", "procesbegeleider", 45),
    ]
    assert record["werksessies"][0]["reflection"]["technisch"] == REFLECTION
    assert [a["answer"] for a in record["reflection_answers"]] == [ANNA_ANSWER]
    assert [t["takeaway"] for t in record["speedsparren_takeaways"]] == [ANNA_TAKEAWAY]
    everything = html.decode() + body.decode()
    assert REFLECTION in html.decode()
    for foreign in (KARIMS, BOB_ANSWER, BOB_TAKEAWAY, CLIENT_TITLE, CLIENT_SITUATION, KARIM.aad):
        assert foreign not in everything


async def test_someone_else_accepting_her_card_gets_nothing(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seeded(secured)
    cards = await consents(secured, identity, "reflectieverslag 2026")
    context = cards[1].body["attachments"][0]["content"]["acceptContext"]
    url = secured.connector.url
    status, _ = await secured.post(
        file_consent_invoke(
            url, context, "accept", upload_url=secured.connector.upload_url("k"), user=KARIM
        ),
        token=identity.token(url),
    )
    assert status == 200
    # A card made for Anna uploads nothing for Karim.
    assert secured.connector.uploads == []
    assert REFLECTION not in secured.connector.everything()


async def test_a_facilitator_gets_a_statement_for_a_person_named_with_spaces(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seeded(secured)
    with secured.services.database.session() as session:
        anna = session.scalar(select(Member).where(Member.platform_user_id == ANNA.aad))
        assert anna is not None
        anna.is_facilitator = True  # Anna leads the practice here; the statement is for Karim
        karim = session.scalar(select(Member).where(Member.platform_user_id == KARIM.aad))
        assert karim is not None
        karim.display_name = KARIM.name
    cards = await consents(secured, identity, f"reflectieverslag verklaring {KARIM.name} 2026")
    (card,) = cards
    context = card.body["attachments"][0]["content"]["acceptContext"]
    assert context["source"] == "reflectieverslag-verklaring"
    url = secured.connector.url
    status, _ = await secured.post(
        file_consent_invoke(url, context, "accept", upload_url=secured.connector.upload_url("v")),
        token=identity.token(url),
    )
    assert status == 200
    (upload,) = secured.connector.uploads
    statement = upload.body.decode()
    assert KARIM.name in statement and "Incidentmethode" in statement and "inbrenger" in statement
    assert KARIMS not in statement and REFLECTION not in statement


async def test_the_reflection_form_on_teams_stores_only_her_own(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    from bot.teams.render import MARKER
    from handlers.reflectieverslag.engine import plan_asks
    from tests.support.reflectieverslag_seed import T0
    from tests.support.scheduling import Clock
    from tests.support.teams_standin import card_submit

    ids = seed(secured.services.database, "teams", PEOPLE, (CHANNEL, "19:schulden@thread.tacv2"))
    runtime = secured.services.runtime
    runtime.clock = Clock(T0 + timedelta(hours=4))
    assert runtime.call_sync(plan_asks) == 9
    with secured.services.database.session() as session:
        anna = session.scalar(select(Member).where(Member.platform_user_id == ANNA.aad))
        assert anna is not None
        row_id = session.scalar(
            select(WerksessieReflectie.id).where(
                WerksessieReflectie.member_id == anna.id,
                WerksessieReflectie.session_id == ids.incident,
            )
        )
    url = secured.connector.url
    button = {MARKER: "button", "action_id": "reflectieverslag_reflecteer", "value": str(row_id)}
    before = len(secured.connector.calls("reply"))
    status, text = await secured.post(
        message(url, None, kind="personal", value=button), token=identity.token(url)
    )
    assert status == 200, text
    (form,) = secured.connector.calls("reply")[before:]
    assert form.response_id is not None
    assert set(inputs_of(form.card)) >= {"technisch", "normatief", "persoonlijk"}
    status, text = await secured.post(
        card_submit(url, form.card, form.response_id, {"persoonlijk": REFLECTION}, kind="personal"),
        token=identity.token(url),
    )
    assert status == 200, text
    with secured.services.database.session() as session:
        stored = session.get(WerksessieReflectie, row_id)
        assert stored is not None and stored.persoonlijk == REFLECTION
        assert stored.answered_at == T0 + timedelta(hours=4)

    # Karim pressing Anna's button gets no form.
    status, _ = await secured.post(
        message(url, None, kind="personal", value=button, user=KARIM), token=identity.token(url)
    )
    assert status == 200
    assert "niet (meer) bij jou" in secured.connector.everything()
