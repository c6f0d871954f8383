"""A lone UTF-16 surrogate ("a\\ud800b") is valid JSON but cannot be encoded as UTF-8: no
database stores it and no platform takes it. Text from a platform is made storable where it
enters the neutral events (handlers/events.py), with U+FFFD in its place, so a thread reply
with one is acknowledged and stored once instead of answering 500 at every redelivery."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Bijdrage
from tests.bot.slack.test_casus_flow import bring_in, post_json
from tests.faults.conftest import ServedApp
from tests.support.signing import thread_reply_event

LONE = "a\ud800b en \udc00 een \ud83d\ude00"
STORED = "a\ufffdb en \ufffd een \U0001f600"  # a proper pair stays the emoji it encodes


@pytest.mark.parametrize("text", [LONE, "\ud800"])
async def test_a_lone_surrogate_in_a_slack_thread_reply_is_stored_once_with_a_replacement(
    served: ServedApp, text: str
) -> None:
    casus = await bring_in(served)
    event = thread_reply_event(
        text, thread_ts=casus.message_id or "", ts="1700000090.000100", event_id="EvLONE"
    )
    for _ in range(2):  # the redelivery counts once
        status, body = await post_json(served, event)
        assert status == 200, body
    await served.idle()
    with served.database.session() as session:
        (bijdrage,) = session.scalars(select(Bijdrage))
        assert bijdrage.text == (STORED if text == LONE else "\ufffd")
        bijdrage.text.encode("utf-8")
