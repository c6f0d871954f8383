"""Flows beyond the casus reach Teams through the same handlers: a facilitator's reflection
overview (a notice with a card and buttons) and the schedule form with single choices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.teams.render import FormSubmission, parse_submission, render_form
from handlers.core.replies import Form, Option, Select
from handlers.reflection.chat import ACTION_ADD
from storage.models import Schedule
from tests.bot.teams.conftest import TeamsServer
from tests.support.teams_standin import (
    CHANNEL,
    FLOOR,
    KARIM,
    assert_valid_teams_card,
    card_submit,
    card_text,
    inputs_of,
    message,
)


async def ok(server: TeamsServer, activity: dict[str, Any]) -> None:
    status, text = await server.post(activity)
    assert status == 200, text


def test_a_single_choice_is_a_compact_choice_set_and_comes_back_as_text() -> None:
    form = Form(
        "f",
        "Titel",
        "OK",
        "Stop",
        (Select("soort", "Soort", (Option("a", "A"), Option("b", "B")), initial="b"),),
    )
    card = render_form(form, {}, "een collega").card
    assert_valid_teams_card(card)
    choice = inputs_of(card)["soort"]
    assert (choice["isMultiSelect"], choice["style"], choice["value"]) == (False, "compact", "b")
    parsed = parse_submission({**card["actions"][0]["data"], "soort": "a"})
    assert isinstance(parsed, FormSubmission)
    assert parsed.values == {"soort": "a"}


async def test_a_facilitator_manages_reflection_schedules_from_teams(teams: TeamsServer) -> None:
    url = teams.connector.url
    await ok(teams, message(url, "reflectie", user=FLOOR, mention_bot=True))
    overview = teams.connector.last("reply")
    assert overview.conversation_id.startswith(CHANNEL)
    assert_valid_teams_card(overview.card)
    assert overview.card.get("actions"), "the overview has an add button"
    add = next(
        i for i, a in enumerate(overview.card["actions"]) if a["data"]["action_id"] == ACTION_ADD
    )
    thread = overview.conversation_id.partition(";messageid=")[2]
    assert overview.response_id is not None
    await ok(
        teams,
        card_submit(
            url, overview.card, overview.response_id, action=add, user=FLOOR, thread=thread
        ),
    )
    form = teams.connector.last("reply")
    assert_valid_teams_card(form.card)
    inputs = inputs_of(form.card)
    assert inputs["soort"]["isMultiSelect"] is False
    assert inputs["bezorging"]["value"] == "channel"
    values = {name: item.get("value", "") for name, item in inputs.items()}
    values["wanneer"] = "vrijdag 15:00"
    assert form.response_id is not None
    await ok(
        teams, card_submit(url, form.card, form.response_id, values, user=FLOOR, thread=thread)
    )
    with teams.services.database.session() as session:
        schedules = session.scalars(select(Schedule)).all()
        assert len(schedules) == 1
    done = teams.connector.last("update")
    assert done.activity_id == form.response_id and "actions" not in done.card


async def test_someone_who_is_not_a_facilitator_is_refused(teams: TeamsServer) -> None:
    await ok(teams, message(teams.connector.url, "reflectie", user=KARIM, mention_bot=True))
    answer = teams.connector.last("reply")
    assert_valid_teams_card(answer.card)
    assert card_text(answer.card)
    with teams.services.database.session() as session:
        assert session.scalars(select(Schedule)).all() == []


async def test_a_harvest_runs_in_teams_and_offers_its_files_through_file_consent(
    teams: TeamsServer,
) -> None:
    url = teams.connector.url
    await ok(teams, message(url, "casus", user=FLOOR, kind="personal"))
    form = teams.connector.last("reply")
    assert form.response_id is not None
    values = {"titel": "Schulden", "situatie": "Huurachterstand.", "vraag": "Wat nu?"}
    await ok(
        teams, card_submit(url, form.card, form.response_id, values, user=FLOOR, kind="personal")
    )
    before = len(teams.connector.sent)
    await ok(teams, message(url, "oogsten", user=FLOOR, kind="personal"))
    sent = teams.connector.sent[before:]
    replies = [s for s in sent if s.method == "reply"]
    for reply in replies:
        assert_valid_teams_card(reply.card)
    texts = [card_text(r.card) for r in replies]
    assert len(replies) == 2, texts  # collecting..., the summary
    assert "Schulden" in texts[1]
    # The report and the chart: a file consent card each (tests/bot/teams/test_harvest_files.py).
    offers = [s.body["attachments"][0] for s in sent if s.method == "send"]
    assert [a["contentType"] for a in offers] == [
        "application/vnd.microsoft.teams.card.file.consent"
    ] * 2
    assert [a["name"].rsplit(".", 1)[1] for a in offers] == ["html", "png"]
    assert "nog niet versturen" not in teams.connector.everything()
    assert teams.connector.calls("create") == []  # a personal chat: answered right there
