"""Onboarding on Teams: someone added to a team or chat where Leerkring is gets one friendly
1:1 message asking for their profile, created through the connector (proactive), once per
person; the bot itself being added gets nothing.

The server runs in emulator mode: the bot's outbound calls need a token from Entra ID, which
MSAL only fetches from an https authority, so signed requests with outbound calls cannot run
offline. That inbound tokens are checked is tested in test_auth.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Member, MemberProfile
from tests.bot.teams.conftest import TeamsServer
from tests.support.scheduling import scheduler_for, stop_schedulers  # noqa: F401
from tests.support.teams_standin import (
    ANNA,
    BOT_ID,
    KARIM,
    TENANT,
    assert_valid_teams_card,
    bot_account,
    card_submit,
    card_text,
    conversation_update,
    inputs_of,
)


async def ok(server: TeamsServer, activity: dict[str, Any]) -> None:
    status, text = await server.post(activity)
    assert status == 200, text


def profiles(server: TeamsServer) -> list[MemberProfile]:
    with server.services.database.session() as session:
        found = list(session.scalars(select(MemberProfile)))
        session.expunge_all()
        return found


def dms_to(server: TeamsServer, user_id: str) -> list[Any]:
    """Messages sent into the 1:1 chats created for this person."""
    created = {
        c.response_id
        for c in server.connector.calls("create")
        if any(m.get("aadObjectId") == user_id for m in c.body.get("members", []))
    }
    return [s for s in server.connector.calls("send") if s.conversation_id in created]


async def test_a_new_member_gets_one_profile_dm_and_the_bot_itself_none(
    teams: TeamsServer,
) -> None:
    connector = teams.connector
    scheduler = scheduler_for(teams.services)

    # Leerkring is added to the team: nobody gets a DM, and the bot is no member.
    await ok(teams, conversation_update(connector.url, [bot_account()]))
    await scheduler.tick()
    assert connector.sent == []
    assert teams.rows(Member) == [] and profiles(teams) == []

    # Karim joins the team: one 1:1 chat is created and the welcome goes there (the
    # scheduler's tick sends what the join made owed).
    await ok(teams, conversation_update(connector.url, [KARIM.account()]))
    assert connector.sent == []
    assert (await scheduler.tick())["welcomed"] == 1
    (created,) = connector.calls("create")
    assert created.body["members"] == [
        {"id": KARIM.teams_id, "name": KARIM.name, "aadObjectId": KARIM.aad}
    ]
    assert created.body["bot"]["id"] == BOT_ID and created.body["isGroup"] is False
    assert created.body["channelData"] == {"tenant": {"id": TENANT}}
    assert connector.calls("member") == []  # the join carried the account: no look-up needed
    (welcome,) = dms_to(teams, KARIM.aad)
    assert welcome.conversation_id == created.response_id
    card = welcome.card
    assert_valid_teams_card(card)
    text = card_text(card)
    assert "Welkom bij de lerende praktijk" in text
    assert f"<at>{KARIM.name}</at>" in text
    button = card["actions"][0]
    assert button["title"] == "Profiel invullen"
    (profile,) = profiles(teams)
    assert profile.welcomed_at is not None
    (member,) = teams.rows(Member)
    assert (member.platform, member.platform_user_id) == ("teams", KARIM.aad)

    # Karim is added again later (another channel, a new activity): no second DM.
    sent_before = len(connector.sent)
    await ok(teams, conversation_update(connector.url, [KARIM.account()]))
    assert "welcomed" not in await scheduler.tick()
    assert connector.sent[sent_before:] == []
    assert len(dms_to(teams, KARIM.aad)) == 1

    # The bot and Anna in one activity (e.g. a group chat): only Anna is welcomed.
    together = conversation_update(connector.url, [bot_account(), ANNA.account()], kind="groupChat")
    await ok(teams, together)
    await scheduler.tick()
    assert len(dms_to(teams, ANNA.aad)) == 1
    assert len(connector.calls("create")) == 2
    assert {m.platform_user_id for m in teams.rows(Member)} == {KARIM.aad, ANNA.aad}

    # The button in the DM opens the profile form in that 1:1 chat.
    chat = welcome.conversation_id
    click = card_submit(connector.url, card, welcome.response_id or "", user=KARIM, kind="personal")
    click["conversation"]["id"] = chat
    await ok(teams, click)
    form = connector.last("reply")
    assert form.conversation_id == chat
    assert {"organisatie", "rol", "expertise"} <= set(inputs_of(form.card))


async def test_a_welcome_the_connector_refused_goes_out_at_a_later_tick_once(
    teams: TeamsServer,
) -> None:
    connector = teams.connector
    scheduler = scheduler_for(teams.services)
    await ok(teams, conversation_update(connector.url, [KARIM.account()]))
    connector.fail["create"] = 503  # the 1:1 chat cannot be created for now
    assert "welcomed" not in await scheduler.tick()
    assert dms_to(teams, KARIM.aad) == []
    (profile,) = profiles(teams)
    assert profile.welcome_status == "sending" and profile.welcomed_at is None

    del connector.fail["create"]
    assert (await scheduler.tick())["welcomed"] == 1
    assert "welcomed" not in await scheduler.tick()
    (welcome,) = dms_to(teams, KARIM.aad)
    assert "Welkom bij de lerende praktijk" in card_text(welcome.card)
    (profile,) = profiles(teams)
    assert profile.welcome_status == "sent" and profile.welcomed_at is not None


async def test_a_null_among_the_added_members_is_skipped_not_a_traceback(
    teams: TeamsServer, caplog: Any
) -> None:
    """Found by the hostile-activity fuzz: ``membersAdded: [null, Karim]`` raised in the
    welcome path. The null is skipped, Karim is still welcomed, and nothing is logged as an
    error."""
    scheduler = scheduler_for(teams.services)
    activity = conversation_update(teams.connector.url, [KARIM.account()])
    activity["membersAdded"] = [None, *activity["membersAdded"]]
    await ok(teams, activity)
    assert [m.platform_user_id for m in teams.rows(Member)] == [KARIM.aad]
    assert (await scheduler.tick())["welcomed"] == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
