"""Speedsparren on a schedule in Teams: a facilitator plans it with the form card, the timer
posts the announcement in the channel through the stored conversation reference, people
join with the card's button and get their first partner in a 1:1 chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import Schedule, SpeedsparParticipant, SpeedsparSession
from tests.bot.teams.conftest import TeamsServer
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.teams_standin import (
    ANNA,
    CHANNEL,
    FLOOR,
    KARIM,
    assert_valid_teams_card,
    bot_account,
    card_submit,
    card_text,
    conversation_update,
    inputs_of,
    message,
)

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 3, 23, 10, 0, tzinfo=AMS).astimezone(UTC)
FRIDAY_1500 = datetime(2026, 3, 27, 15, 0, tzinfo=AMS).astimezone(UTC)


async def ok(server: TeamsServer, activity: dict[str, Any]) -> None:
    status, text = await server.post(activity)
    assert status == 200, text


def stored(server: TeamsServer, model: type) -> list[Any]:
    with server.services.database.session() as session:
        found = list(session.scalars(select(model)))
        session.expunge_all()
        return found


async def test_a_speedspar_schedule_runs_in_a_teams_channel(teams: TeamsServer) -> None:
    url, connector = teams.connector.url, teams.connector
    clock = Clock(MONDAY)
    teams.services.runtime.clock = clock
    await ok(teams, conversation_update(url, [bot_account()]))
    connector.members[CHANNEL] = [ANNA.account(), KARIM.account(), FLOOR.account()]

    # The facilitator opens the planning form with "@Leerkring speedsparren plan".
    await ok(teams, message(url, "speedsparren plan", user=FLOOR, mention_bot=True))
    form = connector.last("reply")
    assert_valid_teams_card(form.card)
    inputs = inputs_of(form.card)
    assert inputs["rondes"]["value"] == "3" and inputs["aanmelden"]["value"] == "10"
    assert inputs["begeleider"]["value"] == "nee"
    values = {name: item.get("value", "") for name, item in inputs.items()}
    thread = form.conversation_id.partition(";messageid=")[2]

    # Minutes out of range: the form comes back with the message under the field.
    assert form.response_id is not None
    bad = {**values, "wanneer": "vrijdag 15:00", "minuten": "45"}
    await ok(teams, card_submit(url, form.card, form.response_id, bad, user=FLOOR, thread=thread))
    again = connector.last("update")
    assert "van 2 tot en met 30" in card_text(again.card)
    assert stored(teams, Schedule) == []

    good = {**values, "wanneer": "vrijdag 15:00", "rondes": "2", "minuten": "5"}
    await ok(teams, card_submit(url, form.card, form.response_id, good, user=FLOOR, thread=thread))
    (schedule,) = stored(teams, Schedule)
    assert (schedule.kind, schedule.rounds, schedule.minutes) == ("speedsparren", 2, 5)
    assert "elke vrijdag om 15:00" in card_text(connector.last("update").card)

    # Friday 15:00: the announcement is posted in the channel, with its button.
    scheduler = scheduler_for(teams.services)
    clock.set(FRIDAY_1500 + timedelta(seconds=5))
    assert (await scheduler.tick())["fired"] == 1
    announcement = connector.last("send")
    assert announcement.conversation_id == CHANNEL
    assert_valid_teams_card(announcement.card)
    assert "Speedsparren om 15:10" in card_text(announcement.card)
    (session,) = stored(teams, SpeedsparSession)
    assert session.message_id == announcement.response_id

    # Anna and Karim join with the button; at 15:10 each gets round 1 in a new 1:1 chat.
    assert announcement.response_id is not None
    for person in (ANNA, KARIM):
        await ok(teams, card_submit(url, announcement.card, announcement.response_id, user=person))
    assert len(stored(teams, SpeedsparParticipant)) == 2
    clock.set(FRIDAY_1500 + timedelta(minutes=10, seconds=1))
    await scheduler.tick()
    chats = {c.response_id: c.body["members"][0]["aadObjectId"] for c in connector.calls("create")}
    round1 = {
        chats[s.conversation_id]: s for s in connector.calls("send") if s.conversation_id in chats
    }
    assert sorted(round1) == sorted([ANNA.aad, KARIM.aad])
    assert "ronde 1 van 2" in card_text(round1[ANNA.aad].card)
    assert f"<at>{KARIM.name}</at>" in card_text(round1[ANNA.aad].card)
