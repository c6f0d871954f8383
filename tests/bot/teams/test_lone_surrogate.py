"""A lone UTF-16 surrogate in a Teams thread reply is stored with U+FFFD in its place
(tests/faults/test_lone_surrogate.py has the Slack side and the reason)."""

from __future__ import annotations

from storage.models import Bijdrage
from tests.bot.teams.conftest import TeamsServer
from tests.bot.teams.test_casus_flow import bring_in, ok
from tests.faults.test_lone_surrogate import LONE, STORED
from tests.support.teams_standin import KARIM, message


async def test_a_lone_surrogate_in_a_teams_thread_reply_is_stored_once_with_a_replacement(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    reply = message(teams.connector.url, LONE, user=KARIM, thread=casus.message_id)
    await ok(teams, reply)
    await ok(teams, reply)
    (bijdrage,) = teams.rows(Bijdrage)
    assert bijdrage.text == STORED
