"""Names in a casus on Teams with the strict guard: the same choice through the neutral Form."""

from __future__ import annotations

import json

import pytest

from bot.server import TEAMS
from handlers.privacy.deduce import DeduceGuard
from storage.models import Casus, CasusStatus
from tests.bot.teams.conftest import TeamsServer
from tests.bot.teams.test_casus_flow import CLEAN, open_intake, submit
from tests.support.teams_standin import CHANNEL, assert_valid_teams_card, card_text, inputs_of

NAMED = {**CLEAN, "situatie": "Moeder Fatima el Amrani heeft huurachterstand."}


@pytest.fixture
def strict(teams: TeamsServer, strict_guard: DeduceGuard) -> TeamsServer:
    teams.services.runtime.guard = strict_guard
    adapter = teams.runner.app[TEAMS]
    assert adapter is not None
    adapter.guard = strict_guard
    return teams


async def test_a_name_shows_the_choice_on_the_card_and_keeps_the_text(
    strict: TeamsServer,
) -> None:
    form = await open_intake(strict)
    assert inputs_of(form.card)["privacy_bevestiging"]["value"] == "controleer"
    await submit(strict, form, {**NAMED, "privacy_bevestiging": "controleer"})
    card = strict.connector.last("update").card
    assert_valid_teams_card(card)
    # The person needs to see the name to decide about it; identifiers would be removed.
    assert inputs_of(card)["situatie"]["value"] == NAMED["situatie"]
    assert "Dit lijkt over iemand te gaan" in card_text(card)
    assert strict.count(Casus) == 0
    assert strict.connector.calls("send") == []


async def test_pseudonymise_sends_a_preview_privately_and_posts_nothing_yet(
    strict: TeamsServer,
) -> None:
    form = await open_intake(strict)
    await submit(strict, form, {**NAMED, "privacy_bevestiging": "anonimiseer"})
    (draft,) = strict.rows(Casus)
    assert draft.status == CasusStatus.PENDING
    assert draft.situation == "Moeder [PERSOON-1] heeft huurachterstand."
    sent = [s for s in strict.connector.calls("send") if s.conversation_id == CHANNEL]
    assert sent == []
    # The form card becomes the preview, with its buttons: it cannot be submitted twice.
    preview = strict.connector.last("update")
    assert preview.activity_id == form.response_id
    assert_valid_teams_card(preview.card)
    shown = json.dumps(preview.body, ensure_ascii=False)
    assert "[PERSOON-1]" in shown and "Amrani" not in shown
    assert "casus_anoniem_plaatsen" in shown
