"""Form metadata in a Teams card is tamper-evident (bot/form_seal.py): an ``Action.Submit``
counts only with the metadata and seal the bot put in the card. A forged one gets a friendly
notice, and nothing is stored or posted. Through the running server, on both databases."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from storage.models import Bijdrage
from tests.bot.teams.conftest import TeamsServer
from tests.bot.teams.test_casus_flow import CLEAN, bring_in, casus_post, ok
from tests.support.teams_standin import CHANNEL, KARIM, Sent, card_submit

REFUSED = "Dit formulier is niet meer geldig"


async def open_reply_form(teams: TeamsServer, message_id: str) -> Sent:
    card = casus_post(teams).card
    await ok(
        teams, card_submit(teams.connector.url, card, message_id, user=KARIM, thread=message_id)
    )
    form = teams.connector.last("reply")
    assert "bijdrage" in str(form.card)
    return form


def forged(card: dict[str, Any], change: Any) -> dict[str, Any]:
    card = copy.deepcopy(card)
    change(card["actions"][0]["data"])
    return card


@pytest.mark.parametrize("card_known", [True, False], ids=["open-card", "after-restart"])
async def test_a_reply_form_whose_metadata_names_another_casus_is_refused(
    teams: TeamsServer, card_known: bool
) -> None:
    other = await bring_in(teams, {**CLEAN, "titel": "Elders"})
    ours = await bring_in(teams)
    assert ours.message_id and other.message_id
    form = await open_reply_form(teams, ours.message_id)
    assert form.response_id is not None
    sends = len(teams.connector.calls("send"))
    card_id = form.response_id if card_known else "1700000999999"
    for change in (
        lambda data: data["metadata"].__setitem__("casus_id", other.id),
        lambda data: data.pop("seal"),
        lambda data: data.__setitem__("seal", "0" * 64),
    ):
        activity = card_submit(
            teams.connector.url,
            forged(form.card, change),
            card_id,
            {"bijdrage": "Via een vervalste kaart."},
            user=KARIM,
            thread=ours.message_id,
        )
        await ok(teams, activity)
        notice = teams.connector.sent[-1]
        assert REFUSED in json.dumps(notice.body, ensure_ascii=False), notice
    assert teams.count(Bijdrage) == 0
    assert len(teams.connector.calls("send")) == sends

    # The card as the bot sent it still works.
    activity = card_submit(
        teams.connector.url,
        form.card,
        form.response_id,
        {"bijdrage": "Betrek de school later."},
        user=KARIM,
        thread=ours.message_id,
    )
    await ok(teams, activity)
    (bijdrage,) = teams.rows(Bijdrage)
    assert bijdrage.casus_id == ours.id
    posted = teams.connector.last("send")
    assert posted.conversation_id == f"{CHANNEL};messageid={ours.message_id}"
