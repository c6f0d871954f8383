"""Form metadata is tamper-evident (bot/form_seal.py): a view_submission counts only with the
private_metadata the bot opened the modal with. Forged, edited or moved metadata gets a
friendly error on the form, and nothing is stored or posted. Through the real server with
signed requests, on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from handlers.casus.chat import CLOSE_FORM
from storage.models import Bijdrage, Casus
from tests.bot.slack.test_casus_flow import CLEAN, bring_in, casussen, count, open_intake, post
from tests.conftest import RunningServer
from tests.support.signing import block_action, interactive_body, view_submission

REFUSED = "Dit formulier is niet meer geldig"


async def open_reply_form(
    server: RunningServer, casus: Casus, user: str = "U333"
) -> dict[str, Any]:
    before = len(server.slack.calls_to("views.open"))
    action = block_action(
        "casus_denk_mee", str(casus.id), user=user, message_ts=casus.message_id or ""
    )
    status, _ = await post(server, interactive_body(action))
    assert status == 200
    views = await server.slack.wait_for("views.open", before + 1)
    view: dict[str, Any] = views[-1]["view"]
    assert view["callback_id"] == "casus_bijdrage"
    return view


async def submit(
    server: RunningServer, view: dict[str, Any], values: dict[str, Any], user: str
) -> dict[str, Any]:
    status, text = await post(server, interactive_body(view_submission(view, values, user=user)))
    assert status == 200, text
    return dict(json.loads(text or "{}"))


def refused(answer: dict[str, Any]) -> bool:
    return answer.get("response_action") == "errors" and any(
        REFUSED in message for message in answer.get("errors", {}).values()
    )


def edited(view: dict[str, Any], change: Any) -> dict[str, Any]:
    payload = json.loads(view["private_metadata"])
    change(payload)
    return {**view, "private_metadata": json.dumps(payload)}


async def test_a_bijdrage_form_whose_metadata_names_another_casus_is_refused(
    server: RunningServer,
) -> None:
    ours = await bring_in(server)
    other = await bring_in(server, {**CLEAN, "titel": "Elders"}, user="U999")
    with server.database.session() as session:
        session.get(Casus, other.id).channel.platform_channel_id = "CPRIVATE"  # type: ignore[union-attr]
    posts = len(server.slack.calls_to("chat.postMessage"))
    view = await open_reply_form(server, ours)

    def to_other(payload: dict[str, Any]) -> None:
        payload["m"]["casus_id"] = other.id

    for forged in (
        edited(view, to_other),  # the bot's seal, someone else's casus
        {**view, "private_metadata": json.dumps({"m": {"casus_id": other.id}})},  # no seal
        {**view, "private_metadata": "not json"},
        {**view, "private_metadata": ""},
    ):
        answer = await submit(server, forged, {"bijdrage": "Via een vervalst formulier."}, "U333")
        assert refused(answer), answer
    assert count(server, Bijdrage) == 0
    assert len(server.slack.calls_to("chat.postMessage")) == posts

    # The form as the bot opened it still works.
    answer = await submit(server, view, {"bijdrage": "Betrek de school later."}, "U333")
    assert "errors" not in answer, answer
    await server.slack.wait_for("chat.postMessage", posts + 1)
    with server.database.session() as session:
        (bijdrage,) = session.scalars(select(Bijdrage))
        assert bijdrage.casus_id == ours.id


@pytest.mark.parametrize("how", ["moved", "unsealed", "other_form"])
async def test_a_forged_intake_cannot_post_a_casus_into_another_channel(
    server: RunningServer, how: str
) -> None:
    view = await open_intake(server)
    if how == "moved":  # the seal of the channel it was opened in, another channel named
        forged = edited(view, lambda p: p.__setitem__("p", ["CPRIVATE", "T1", "geheim"]))
    elif how == "unsealed":
        forged = {
            **view,
            "private_metadata": json.dumps({"m": {}, "p": ["CPRIVATE", "T1", "geheim"]}),
        }
    else:  # a seal is for one form: the intake's metadata under another form's id
        forged = {**view, "callback_id": CLOSE_FORM}
    answer = await submit(server, forged, CLEAN, "U111")
    assert refused(answer), answer
    assert casussen(server) == []
    assert server.slack.calls_to("chat.postMessage") == []
