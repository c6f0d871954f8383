"""/mijn-gegevens in Teams: a file consent card in the 1:1 chat; on *Allow* the export is made
again from the database, uploaded to the upload URL Teams gives, and a file info card follows.
Every activity carries a Bot Framework JWT, checked against the loopback identity service.

The one thing that cannot run offline is the bot's own token for the connector (Azure AD's
client-credentials grant): the ``outbound`` fixture hands out a fixed token instead, and the
tests check that every connector call carries it."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from handlers.casus.queries import BijdrageRepository, CasusRepository
from handlers.core.context import Repositories
from storage.models import ProcessedEvent
from tests.bot.teams.conftest import TeamsServer
from tests.support.teams_standin import (
    ANNA,
    CHANNEL,
    FILE_CONSENT,
    FILE_INFO,
    KARIM,
    OUTBOUND_TOKEN,
    TEAM,
    IdentityStandIn,
    Sent,
    card_text,
    file_consent_invoke,
    message,
)

ANNA_SITUATION = "Annas eigen casustekst over huurachterstand"
KARIM_TEXT = "Karims bijdrage: betrek de school erbij"
pytestmark = pytest.mark.usefixtures("outbound_token")


def seed(server: TeamsServer) -> None:
    """Anna brought in a casus; Karim thought along on it and brought in his own."""
    with server.services.database.session() as session:
        repos = Repositories(session)
        channel = repos.channels.ensure("teams", CHANNEL, TEAM, "Casuïstiek")
        anna = repos.members.ensure("teams", ANNA.aad, ANNA.name)
        karim = repos.members.ensure("teams", KARIM.aad, KARIM.name)
        annas = CasusRepository(repos.session).add(
            channel=channel,
            inbrenger=anna,
            title="Annas casus",
            situation=ANNA_SITUATION,
            obstacle=None,
            uncertainty=None,
            question="Hoe nu verder?",
            perspectives=[],
        )
        BijdrageRepository(repos.session).add(annas, karim, KARIM_TEXT, message_id="1700000000777")
        CasusRepository(repos.session).add(
            channel=channel,
            inbrenger=karim,
            title="Karims casus",
            situation="Karims eigen situatie",
            obstacle=None,
            uncertainty=None,
            question="Wat nu?",
            perspectives=[],
        )


async def signed(
    server: TeamsServer, identity: IdentityStandIn, activity: dict[str, Any]
) -> tuple[int, str]:
    return await server.post(activity, token=identity.token(server.connector.url))


async def ask_for_my_data(server: TeamsServer, identity: IdentityStandIn) -> Sent:
    status, text = await signed(
        server, identity, message(server.connector.url, "mijn-gegevens", kind="personal")
    )
    assert status == 200, text
    (consent,) = [
        s
        for s in server.connector.messages()
        if (s.body.get("attachments") or [{}])[0].get("contentType") == FILE_CONSENT
    ]
    return consent


async def test_my_data_sends_a_consent_card_in_the_personal_chat_and_no_file_yet(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    assert consent.method == "send" and consent.conversation_id == ANNA.personal_chat
    assert consent.authorization == f"Bearer {OUTBOUND_TOKEN}"
    (attachment,) = consent.body["attachments"]
    assert attachment["name"] == "leerkring-mijn-gegevens.json"
    card = attachment["content"]
    assert card["sizeInBytes"] > 100
    assert "Toestaan" in card["description"]
    assert card["acceptContext"]["user"] == ANNA.aad
    assert card["acceptContext"]["source"] == "mijn-gegevens"
    # The card carries no data, and nothing is uploaded until Anna allows it.
    assert ANNA_SITUATION not in secured.connector.everything()
    assert secured.connector.uploads == []
    # The erase button still comes with it, as on Slack.
    assert "privacy_verwijder_vraag" in secured.connector.everything()


async def test_accept_uploads_exactly_her_data_then_sends_a_file_info_card(
    secured: TeamsServer, identity: IdentityStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    context = consent.body["attachments"][0]["content"]["acceptContext"]
    url = secured.connector.url
    before = len(secured.connector.sent)
    status, text = await signed(
        secured,
        identity,
        file_consent_invoke(
            url, context, "accept", upload_url=secured.connector.upload_url("anna-export")
        ),
    )
    assert status == 200, text

    (upload,) = secured.connector.uploads
    size = len(upload.body)
    assert upload.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    exported = json.loads(upload.body)
    assert exported["platform"] == "teams" and exported["user_id"] == ANNA.aad
    assert [c["situation"] for c in exported["casussen"]] == [ANNA_SITUATION]
    everything = upload.body.decode()
    assert KARIM_TEXT not in everything and "Karims" not in everything
    assert KARIM.aad not in everything

    (info,) = secured.connector.sent[before:]
    assert info.method == "reply" and info.conversation_id == ANNA.personal_chat
    (attachment,) = info.body["attachments"]
    assert attachment["contentType"] == FILE_INFO
    assert attachment["name"] == "leerkring-mijn-gegevens.json"
    assert attachment["contentUrl"].startswith("https://contoso.sharepoint.com/")
    assert attachment["content"] == {
        "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
        "fileType": "json",
    }
    assert ANNA_SITUATION not in caplog.text  # the export's content is never logged


async def test_the_file_is_made_when_accepted_so_it_holds_what_is_stored_then(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    context = consent.body["attachments"][0]["content"]["acceptContext"]
    with secured.services.database.session() as session:
        repos = Repositories(session)
        channel = repos.channels.ensure("teams", CHANNEL, TEAM, "Casuïstiek")
        anna = repos.members.ensure("teams", ANNA.aad, ANNA.name)
        CasusRepository(repos.session).add(
            channel=channel,
            inbrenger=anna,
            title="Tweede casus",
            situation="Na de vraag ingebracht",
            obstacle=None,
            uncertainty=None,
            question="En nu?",
            perspectives=[],
        )
    invoke = file_consent_invoke(
        secured.connector.url, context, "accept", upload_url=secured.connector.upload_url("a")
    )
    status, _ = await signed(secured, identity, invoke)
    assert status == 200
    (upload,) = secured.connector.uploads
    titles = [c["title"] for c in json.loads(upload.body)["casussen"]]
    assert titles == ["Annas casus", "Tweede casus"]


async def test_decline_uploads_nothing_and_says_so(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    context = consent.body["attachments"][0]["content"]["declineContext"]
    before = len(secured.connector.sent)
    invoke = file_consent_invoke(
        secured.connector.url, context, "decline", upload_url=secured.connector.upload_url("a")
    )
    status, _ = await signed(secured, identity, invoke)
    assert status == 200
    assert secured.connector.uploads == []
    (notice,) = secured.connector.sent[before:]
    assert notice.conversation_id == ANNA.personal_chat
    shown = card_text(notice.card)
    assert shown == (
        "Je hebt Mijn gegevens in Leerkring geweigerd; dat bestand is niet verstuurd. Wil je het "
        "toch? Typ opnieuw mijn-gegevens en kies Toestaan."
    )
    assert FILE_INFO not in secured.connector.everything()


async def test_a_declined_file_of_a_source_without_its_own_text_gets_the_general_notice(
    secured: TeamsServer, identity: IdentityStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    context = {**consent.body["attachments"][0]["content"]["declineContext"], "source": "iets"}
    before = len(secured.connector.sent)
    invoke = file_consent_invoke(
        secured.connector.url, context, "decline", upload_url=secured.connector.upload_url("a")
    )
    status, _ = await signed(secured, identity, invoke)
    assert status == 200
    assert secured.connector.uploads == []
    (notice,) = secured.connector.sent[before:]
    assert card_text(notice.card).endswith("Vraag het opnieuw aan en kies Toestaan.")
    assert "Teams file consent declined (source 'iets', type 'json')" in caplog.messages
    assert ANNA.name not in caplog.text and ANNA.aad not in caplog.text


async def test_an_unauthenticated_or_forged_invoke_is_refused_and_uploads_nothing(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    context = consent.body["attachments"][0]["content"]["acceptContext"]
    sent_before = len(secured.connector.sent)
    invoke = file_consent_invoke(
        secured.connector.url, context, "accept", upload_url=secured.connector.upload_url("a")
    )
    status, _ = await secured.post(invoke)
    assert status == 401
    status, _ = await secured.post(invoke, token=identity.forged_token(secured.connector.url))
    assert status == 401
    assert secured.connector.uploads == []
    assert len(secured.connector.sent) == sent_before


async def test_someone_else_accepting_her_card_gets_nothing(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    context = consent.body["attachments"][0]["content"]["acceptContext"]
    invoke = file_consent_invoke(
        secured.connector.url,
        context,
        "accept",
        upload_url=secured.connector.upload_url("k"),
        user=KARIM,
    )
    status, _ = await signed(secured, identity, invoke)
    assert status == 200
    assert secured.connector.uploads == []
    notice = secured.connector.sent[-1]
    assert notice.conversation_id == KARIM.personal_chat
    assert "iemand anders" in json.dumps(notice.body, ensure_ascii=False)


async def test_a_failed_upload_is_told_and_a_redelivered_accept_uploads_once(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    consent = await ask_for_my_data(secured, identity)
    context = consent.body["attachments"][0]["content"]["acceptContext"]
    url, upload_url = secured.connector.url, secured.connector.upload_url("a")
    secured.connector.fail["upload"] = 500
    status, _ = await signed(
        secured, identity, file_consent_invoke(url, context, "accept", upload_url=upload_url)
    )
    assert status == 200
    assert len(secured.connector.uploads) == 1
    assert "niet worden verstuurd" in json.dumps(secured.connector.sent[-1].body)
    assert FILE_INFO not in secured.connector.everything()

    del secured.connector.fail["upload"]
    again = file_consent_invoke(url, context, "accept", upload_url=upload_url)
    for _ in range(2):  # Teams delivers the same activity twice
        status, _ = await signed(secured, identity, again)
        assert status == 200
    assert len(secured.connector.uploads) == 2
    assert secured.connector.everything().count(FILE_INFO) == 1
    with secured.services.database.session() as session:
        claimed = [row.event_id for row in session.scalars(select(ProcessedEvent))]
    assert f"activity:{again['id']}" in claimed


async def test_asked_in_a_channel_everything_goes_to_the_personal_chat(
    secured: TeamsServer, identity: IdentityStandIn
) -> None:
    seed(secured)
    secured.connector.members[CHANNEL] = [ANNA.account(), KARIM.account()]
    command = message(secured.connector.url, "mijn-gegevens", mention_bot=True)
    status, text = await signed(secured, identity, command)
    assert status == 200, text
    # No 1:1 chat with Anna yet: it is created, and the card and the notice go there.
    created = secured.connector.last("create")
    assert created.body["members"][0]["id"] == ANNA.teams_id
    sent = secured.connector.messages()
    assert sent and all(s.conversation_id == created.response_id for s in sent)
    assert FILE_CONSENT in json.dumps(sent[0].body)
    assert "privacy_verwijder_vraag" in json.dumps(sent[-1].body)
    assert not [s for s in sent if s.conversation_id.startswith(CHANNEL)]  # nothing in the channel
