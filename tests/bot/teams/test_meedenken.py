"""Wie kan meedenken in Teams, through the running server and the loopback connector, on both
databases: the inbrenger's suggestion arrives in their 1:1 chat, a button (pressed twice)
stores one request, and the scheduler sends the person asked one DM."""

from __future__ import annotations

import json
from typing import Any

from storage.models import Casus, MeedenkRequest
from tests.bot.teams.conftest import TeamsServer
from tests.bot.teams.test_casus_flow import CLEAN, ok, open_intake, submit
from tests.support.scheduling import scheduler_for, stop_schedulers  # noqa: F401
from tests.support.teams_standin import (
    ANNA,
    FLOOR,
    KARIM,
    assert_valid_teams_card,
    card_submit,
    card_text,
    message,
)

PROFILES = {
    ANNA: ("Wijkteam Oost", ["jeugd"]),
    KARIM: ("Schuldhulp Utrecht", ["schulden"]),
    FLOOR: ("Jeugdzorg Midden", ["jeugd", "ggz"]),
}


def seed(teams: TeamsServer) -> None:
    from handlers.profiles.chat import save_profile

    def step(ctx: Any) -> None:
        for user, (organisation, expertise) in PROFILES.items():
            member = ctx.repos.members.ensure("teams", user.aad, display_name=user.name)
            save_profile(ctx, member, organisation, "", expertise)

    teams.services.runtime.call_sync(step)


async def test_suggestion_button_and_one_request_dm_in_teams(teams: TeamsServer) -> None:
    for user in (KARIM, FLOOR):  # each has talked to the bot once
        await ok(teams, message(teams.connector.url, "help", user=user, kind="personal"))
    seed(teams)

    await submit(teams, await open_intake(teams), CLEAN)
    (casus,) = teams.rows(Casus)
    (suggestion,) = [s for s in teams.connector.sent if "meedenken_vraag" in json.dumps(s.body)]
    assert suggestion.body["recipient"]["aadObjectId"] == ANNA.aad  # only to the inbrenger
    card = suggestion.card
    assert_valid_teams_card(card)
    assert "Wie kan meedenken over Gezin met schulden weigert hulp?" in card_text(card)
    titles = [a["title"] for a in card["actions"]]
    assert titles == [
        "Vraag Karim El Amrani om mee te denken",
        "Vraag Floor Jansen om mee te denken",
    ]

    assert suggestion.response_id is not None
    press = card_submit(
        teams.connector.url, card, suggestion.response_id, action=0, user=ANNA, kind="personal"
    )
    await ok(teams, press)
    await ok(teams, {**press, "id": press["id"] + "1"})  # pressed again
    (updated,) = [
        s for s in teams.connector.calls("update") if "meedenken_vraag" in json.dumps(s.body)
    ]
    assert updated.activity_id == suggestion.response_id
    text = card_text(updated.card)
    assert "Karim El Amrani" in text and "is gevraagd om mee te denken" in text
    assert [a["title"] for a in updated.card["actions"]] == ["Vraag Floor Jansen om mee te denken"]
    (request,) = teams.rows(MeedenkRequest)
    assert request.casus_id == casus.id and request.status == "pending"

    scheduler = scheduler_for(teams.services)
    await scheduler.tick()
    await scheduler.tick()
    asked = [s for s in teams.connector.sent if "weigert hulp" in json.dumps(s.body)]
    to_karim = [s for s in asked if s.conversation_id == KARIM.personal_chat]
    assert len(to_karim) == 1
    text = card_text(to_karim[0].card)
    assert "Anna de Vries" in text and "Zou je willen meedenken?" in text
    assert "in het kanaal van de lerende praktijk" in text  # Teams gives no link here
    assert not [s for s in asked if s.conversation_id == FLOOR.personal_chat]
    assert teams.rows(MeedenkRequest)[0].status == "sent"
