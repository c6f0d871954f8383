"""Proactive messages in Teams: conversation references stored on install and on every
activity, used by TeamsMessenger after a restart (a new app instance on the same database)."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from sqlalchemy import select

from bot.teams.messenger import TeamsMessenger
from handlers.core.events import Place
from handlers.core.messaging import DeliveryFailed
from handlers.core.replies import Card, Mention, Section, rich
from storage.models import ConversationReference, Member, ProcessedEvent
from storage.repositories import MemberRepository
from tests.bot.teams.conftest import TeamsServer, emulator_env, start_server
from tests.conftest import DatabaseTarget
from tests.support.teams_standin import (
    ANNA,
    BOT_ID,
    CHANNEL,
    FLOOR,
    KARIM,
    TEAM,
    ConnectorStandIn,
    assert_valid_teams_card,
    bot_account,
    card_text,
    conversation_update,
    message,
)

PLACE = Place("teams", CHANNEL, TEAM)


def reminder(who: str = ANNA.aad) -> Card:
    return Card(
        (
            Section(
                rich("**Reflectie** voor {who}: wat heb je deze week geleerd?", who=Mention(who))
            ),
        ),
        fallback=rich("Tijd voor reflectie"),
    )


def messenger_of(server: TeamsServer) -> TeamsMessenger:
    messenger = server.services.messengers.get("teams")
    assert isinstance(messenger, TeamsMessenger)
    return messenger


async def test_install_and_every_activity_store_the_conversation_reference(
    teams: TeamsServer,
) -> None:
    url = teams.connector.url
    await teams.post(conversation_update(url, [bot_account()]))
    await teams.post(message(url, "help", user=KARIM, kind="personal"))
    with teams.services.database.session() as session:
        rows = {r.conversation_id: r for r in session.scalars(select(ConversationReference))}
    assert set(rows) == {CHANNEL, KARIM.personal_chat}
    channel, personal = rows[CHANNEL], rows[KARIM.personal_chat]
    assert (channel.kind, channel.team_id, channel.service_url) == ("channel", TEAM, url)
    assert channel.reference["conversation"]["id"] == CHANNEL
    assert "activityId" not in channel.reference
    assert "user" not in channel.reference  # no names kept where they are not needed
    assert personal.reference["user"]["aadObjectId"] == KARIM.aad
    assert (personal.kind, personal.user_id) == ("personal", KARIM.aad)


async def test_a_member_joining_is_an_event_handled_once(teams: TeamsServer) -> None:
    added = conversation_update(teams.connector.url, [KARIM.account()])
    for _ in range(2):
        status, _ = await teams.post(added)
        assert status == 200
    with teams.services.database.session() as session:
        events = session.scalars(select(ProcessedEvent.event_id)).all()
    assert events == [f"{added['id']}:{KARIM.aad}"]


async def test_proactive_post_to_a_stored_channel_works_after_a_restart(
    database_target: DatabaseTarget, connector: ConnectorStandIn
) -> None:
    async with aiohttp.ClientSession() as http:
        first = await start_server(emulator_env(database_target.url), connector, http)
        await first.post(conversation_update(connector.url, [bot_account()]))
        await first.post(message(connector.url, "help", user=KARIM, kind="personal"))
        with first.services.database.session() as session:  # Anna is a known member
            MemberRepository(session).ensure("teams", ANNA.aad, ANNA.name)
        await first.runner.cleanup()  # the process ends; only the database remains

        second = await start_server(emulator_env(database_target.url), connector, http)
        try:
            messenger = messenger_of(second)
            sent_before = len(connector.sent)
            ref = await messenger.post(PLACE, reminder())
            post = connector.sent[sent_before]
            assert (post.method, post.conversation_id) == ("send", CHANNEL)
            assert ref.message_id == post.response_id and ref.channel_id == CHANNEL
            assert_valid_teams_card(post.card)
            assert "<at>Anna de Vries</at>" in card_text(post.card)
            assert post.body["summary"] == "Tijd voor reflectie"
            assert post.body["from"]["id"] == BOT_ID

            threaded = await messenger.post(PLACE, reminder(), thread_id=ref.message_id)
            assert connector.last("send").conversation_id == f"{CHANNEL};messageid={ref.message_id}"
            assert threaded.channel_id == CHANNEL

            direct = await messenger.direct(KARIM.aad, reminder(KARIM.aad))
            assert connector.last("send").conversation_id == KARIM.personal_chat
            assert direct.channel_id == KARIM.personal_chat
            assert connector.calls("create") == []  # the stored 1:1 chat was used
        finally:
            await second.runner.cleanup()


async def test_a_dm_without_a_stored_chat_creates_one_through_the_connector(
    teams: TeamsServer,
) -> None:
    url = teams.connector.url
    await teams.post(conversation_update(url, [bot_account()]))
    teams.connector.members[CHANNEL] = [FLOOR.account()]
    ref = await messenger_of(teams).direct(FLOOR.aad, reminder(FLOOR.aad))
    lookup = teams.connector.last("member")
    assert (lookup.conversation_id, lookup.activity_id) == (CHANNEL, FLOOR.aad)
    created = teams.connector.last("create")
    assert created.body["members"] == [
        {"id": FLOOR.teams_id, "name": FLOOR.name, "aadObjectId": FLOOR.aad}
    ]
    assert created.body["bot"]["id"] == BOT_ID and created.body["isGroup"] is False
    sent = teams.connector.last("send")
    assert sent.conversation_id == created.response_id == ref.channel_id
    # Next time the stored 1:1 chat is used.
    await messenger_of(teams).direct(FLOOR.aad, reminder(FLOOR.aad))
    assert len(teams.connector.calls("create")) == 1


async def test_channel_members_are_people_by_object_id(teams: TeamsServer) -> None:
    await teams.post(conversation_update(teams.connector.url, [bot_account()]))
    teams.connector.members[CHANNEL] = [
        ANNA.account(),
        KARIM.account(),
        {"id": BOT_ID, "name": "Leerkring"},
    ]
    members = await messenger_of(teams).channel_members(PLACE)
    assert members == [ANNA.aad, KARIM.aad]


async def test_a_channel_the_bot_never_saw_fails_clearly_without_a_call(
    teams: TeamsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    unknown = Place("teams", "19:nooitgezien@thread.tacv2")
    messenger = messenger_of(teams)
    for attempt in (
        messenger.post(unknown, reminder()),
        messenger.channel_members(unknown),
        messenger.direct(KARIM.aad, reminder()),  # no conversation at all to start from
    ):
        with pytest.raises(DeliveryFailed) as failed:
            await attempt
        assert failed.value.reason == "unknown_conversation"
    assert "no conversation reference stored for 19:nooitgezien@thread.tacv2" in caplog.text
    assert teams.connector.sent == []


async def test_a_refused_or_unreachable_connector_is_a_delivery_failure_with_context(
    teams: TeamsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await teams.post(conversation_update(teams.connector.url, [bot_account()]))
    messenger = messenger_of(teams)
    teams.connector.fail["send"] = 403
    with pytest.raises(DeliveryFailed) as refused:
        await messenger.post(PLACE, reminder())
    assert refused.value.reason == "forbidden"
    assert "Teams post in 19:kanaal" in caplog.text and "HTTP 403" in caplog.text
    del teams.connector.fail["send"]
    with teams.services.database.session() as session:
        stored = session.scalars(select(ConversationReference)).one()
        stored.service_url = "http://127.0.0.1:9/"
        stored.reference = {**stored.reference, "serviceUrl": "http://127.0.0.1:9/"}
    with pytest.raises(DeliveryFailed) as unreachable:
        await messenger.post(PLACE, reminder())
    assert unreachable.value.reason == "unreachable"
    assert "connector unreachable" in caplog.text


async def test_mentions_without_a_known_name_are_plain_text(teams: TeamsServer) -> None:
    await teams.post(conversation_update(teams.connector.url, [bot_account()]))
    await messenger_of(teams).post(PLACE, reminder("d4d4d4d4-0000-4000-8000-00000000000d"))
    card = teams.connector.last("send").card
    assert "<at>" not in card_text(card) and "een collega" in card_text(card)
    assert "entities" not in card["msteams"]
    with teams.services.database.session() as session:
        assert session.scalars(select(Member)).all() == []
