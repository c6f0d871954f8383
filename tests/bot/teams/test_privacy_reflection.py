"""Names in reflection answers and speedspar takeaways on Teams, with the strict guard (deduce):
the same choice on the form card as on Slack, and a reply under a prompt in the channel stored
pseudonymised with a 1:1 notice to its author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.server import TEAMS
from bot.teams.render import MARKER
from handlers.core.context import HandlerContext
from handlers.privacy.deduce import DeduceGuard
from handlers.reflection import chat as reflection
from handlers.reflection import steps as reflection_steps
from handlers.speedsparren.queries import speedspar_repo
from handlers.speedsparren.rounds import Request, create_session
from storage.models import Answer, SpeedsparTakeaway
from tests.bot.teams.conftest import TeamsServer
from tests.support.teams_standin import (
    ANNA,
    CHANNEL,
    KARIM,
    TEAM,
    Sent,
    assert_valid_teams_card,
    card_submit,
    card_text,
    inputs_of,
    message,
)

PROMPT_ID = "1700000000888"
NAMED = "Vandaag sprak ik Fatima el Amrani op school. Fatima el Amrani lachte weer."
COLLEAGUE = "Mijn collega Pieter de Boer hielp met de methode van Gordon."


@pytest.fixture
def strict(teams: TeamsServer, strict_guard: DeduceGuard) -> TeamsServer:
    teams.services.runtime.guard = strict_guard
    adapter = teams.runner.app[TEAMS]
    assert adapter is not None
    adapter.guard = strict_guard
    return teams


async def ok(server: TeamsServer, activity: dict[str, Any]) -> None:
    status, text = await server.post(activity)
    assert status == 200, text


def _posted_prompt(ctx: HandlerContext) -> int:
    channel = ctx.repos.channels.ensure("teams", CHANNEL, TEAM, "Casuïstiek")
    schedule = reflection.create_schedule(
        ctx, channel, reflection.NewSchedule("wat-ging-goed", "elke vrijdag om 15:00"), None
    )
    fired = reflection_steps.fire_run(ctx, schedule, ctx.now(), key="teams-run")
    assert fired.run_id is not None
    reflection_steps.mark_posted(ctx, fired.run_id, PROMPT_ID)
    return fired.run_id


def _session(ctx: HandlerContext) -> int:
    channel = ctx.repos.channels.ensure("teams", CHANNEL, TEAM, "Casuïstiek")
    start = datetime.now(UTC) + timedelta(minutes=5)
    created = create_session(ctx, channel, Request(starts_at=start, rounds=1), None)
    speedspar_repo(ctx).join(created, ctx.repos.members.ensure("teams", ANNA.aad))
    return created.id


async def press(
    server: TeamsServer, action_id: str, value: str, *, kind: str, thread: str | None = None
) -> Sent:
    """A button on one of our cards (the prompt, the takeaway question): Teams sends its data."""
    before = len(server.connector.calls("reply"))
    button = {MARKER: "button", "action_id": action_id, "value": value}
    await ok(server, message(server.connector.url, None, kind=kind, thread=thread, value=button))
    replies = server.connector.calls("reply")
    assert len(replies) == before + 1, server.connector.everything()
    return replies[-1]


async def fill(server: TeamsServer, form: Sent, inputs: dict[str, str]) -> None:
    assert form.response_id is not None
    thread = form.conversation_id.partition(";messageid=")[2] or None
    kind = "personal" if form.conversation_id.startswith("a:") else "channel"
    await ok(
        server,
        card_submit(
            server.connector.url, form.card, form.response_id, inputs, kind=kind, thread=thread
        ),
    )


def answers(server: TeamsServer) -> list[tuple[str, str]]:
    with server.services.database.session() as session:
        return [
            (a.question_id, a.text) for a in session.scalars(select(Answer).order_by(Answer.id))
        ]


async def test_a_reflection_answer_with_a_name_gets_the_choice_and_can_be_pseudonymised(
    strict: TeamsServer,
) -> None:
    run_id = strict.services.runtime.call_sync(_posted_prompt)
    form = await press(strict, "reflectie_antwoord", str(run_id), kind="channel", thread=PROMPT_ID)
    assert_valid_teams_card(form.card)
    assert inputs_of(form.card)["privacy_bevestiging"]["value"] == "controleer"

    await fill(strict, form, {"goed": NAMED, "privacy_bevestiging": "controleer"})
    warned = strict.connector.last("update")
    assert warned.activity_id == form.response_id
    assert "Dit lijkt over iemand te gaan" in card_text(warned.card)
    assert answers(strict) == []

    await fill(strict, form, {"goed": NAMED, "privacy_bevestiging": "anonimiseer"})
    assert answers(strict) == [
        ("goed", "Vandaag sprak ik [PERSOON-1] op school. [PERSOON-1] lachte weer.")
    ]
    shared = strict.connector.last("send")
    assert shared.conversation_id == f"{CHANNEL};messageid={PROMPT_ID}"
    assert "[PERSOON-1] lachte weer" in card_text(shared.card)
    assert "Amrani" not in card_text(shared.card)


async def test_a_reflection_answer_about_a_colleague_is_stored_as_typed(
    strict: TeamsServer,
) -> None:
    run_id = strict.services.runtime.call_sync(_posted_prompt)
    form = await press(strict, "reflectie_antwoord", str(run_id), kind="channel", thread=PROMPT_ID)
    await fill(strict, form, {"goed": COLLEAGUE, "privacy_bevestiging": "geen_client"})
    assert answers(strict) == [("goed", COLLEAGUE)]


async def test_a_reply_under_the_prompt_is_stored_pseudonymised_and_told_one_to_one(
    strict: TeamsServer,
) -> None:
    strict.services.runtime.call_sync(_posted_prompt)
    strict.connector.members[CHANNEL] = [KARIM.account(), ANNA.account()]
    await ok(
        strict,
        message(
            strict.connector.url,
            "Goed gesprek met Jan de Vries op kantoor.",
            user=KARIM,
            thread=PROMPT_ID,
        ),
    )
    assert answers(strict) == [("goed", "Goed gesprek met [PERSOON-1] op kantoor.")]
    created = strict.connector.last("create")
    assert created.body["members"][0]["id"] == KARIM.teams_id
    notice = strict.connector.last("send")
    assert notice.conversation_id == created.response_id
    assert "een naam (Ja* ** *****)" in card_text(notice.card)
    assert "Vries" not in strict.connector.everything()


async def test_a_takeaway_with_a_name_gets_the_choice_and_can_be_pseudonymised(
    strict: TeamsServer,
) -> None:
    session_id = strict.services.runtime.call_sync(_session)
    form = await press(strict, "speedspar_meenemen", str(session_id), kind="personal")
    assert_valid_teams_card(form.card)
    assert "privacy_bevestiging" in inputs_of(form.card)
    named = "Ik bel Fatima el Amrani morgen terug."

    await fill(strict, form, {"meenemen": named, "privacy_bevestiging": "controleer"})
    assert "Dit lijkt over iemand te gaan" in card_text(strict.connector.last("update").card)
    assert strict.count(SpeedsparTakeaway) == 0

    await fill(strict, form, {"meenemen": named, "privacy_bevestiging": "anonimiseer"})
    (takeaway,) = strict.rows(SpeedsparTakeaway)
    assert takeaway.text == "Ik bel [PERSOON-1] morgen terug."


async def test_a_takeaway_about_a_colleague_is_stored_as_typed(strict: TeamsServer) -> None:
    session_id = strict.services.runtime.call_sync(_session)
    form = await press(strict, "speedspar_meenemen", str(session_id), kind="personal")
    await fill(strict, form, {"meenemen": COLLEAGUE, "privacy_bevestiging": "geen_client"})
    (takeaway,) = strict.rows(SpeedsparTakeaway)
    assert takeaway.text == COLLEAGUE
