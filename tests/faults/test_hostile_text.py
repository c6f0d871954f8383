"""Hostile text from people, in a /casus form and in a thread reply, through the real server
on both databases: Slack's mention syntax, entities, 10,000 characters, emoji, right-to-left
text and NUL bytes. It is escaped (nothing Leerkring posts pings anyone) or refused with a
clear message; NUL bytes are removed (PostgreSQL refuses them in text) without a crash."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from storage.models import Bijdrage, Casus
from tests.bot.slack.test_casus_flow import CLEAN, bring_in, open_intake, post, post_json
from tests.faults.conftest import ServedApp
from tests.support.signing import interactive_body, thread_reply_event, view_submission

LONG = ("Een lange zin over een gezin in de knel. " * 250)[:10_000]
HOSTILE = {
    "mentions": "Let op <!channel> <!here> <@U123> <!subteam^S1|@team> <#C999>",
    "entities": "x &lt;@U123&gt; &amp; <b>vet</b> a < b > c & d",
    "emoji": "Gezin 👩‍👩‍👧‍👦 met zorgen 🏳️‍🌈🙂 en een 🧯",
    "rtl": "مرحبا بالعائلة \u202eevil\u202c שלום עולם",
    "nul": "voor\x00na\x00 <!channel>\x00",
}
# A mention token as Slack parses it: <!channel>, <!here>, <!everyone>, <@U…>, <!subteam^…>.
PING = re.compile(r"<(!channel|!here|!everyone|@U123|!subteam\^S1[^>]*)>")


def assert_never_pings(server: ServedApp, own: str = "U111") -> None:
    sent = server.slack.posted_texts().replace(f"<@{own}>", "")  # the inbrenger is mentioned
    assert not PING.search(sent), PING.search(sent)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_hostile_text_in_a_casus_form_is_escaped_and_stored_clean(
    served: ServedApp, kind: str
) -> None:
    hostile = HOSTILE[kind]
    values = {**CLEAN, "titel": hostile[:150], "situatie": hostile, "vraag": hostile}
    casus = await bring_in(served, values)
    assert_never_pings(served)
    posted = json.dumps(served.slack.calls_to("chat.postMessage")[-1], ensure_ascii=False)
    if kind == "entities":  # shown literally: the person's "&lt;" stays "&lt;" on screen
        assert "&amp;lt;@U123&amp;gt;" in posted and "&lt;b&gt;vet&lt;/b&gt;" in posted
    if kind in ("emoji", "rtl"):
        assert hostile in posted  # nothing mangled
    with served.database.session() as session:
        stored = session.get(Casus, casus.id)
        assert stored is not None
        assert "\x00" not in stored.situation + stored.title + stored.question
        if kind == "nul":
            assert stored.situation == "voorna <!channel>"  # as typed, minus the NUL bytes
    assert "\x00" not in posted and "\\u0000" not in posted


async def test_ten_thousand_characters_in_a_casus_form_are_refused_with_the_limit(
    served: ServedApp,
) -> None:
    view = await open_intake(served)
    values = {**CLEAN, "situatie": LONG}
    status, text = await post(served, interactive_body(view_submission(view, values)))
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert answer["errors"]["situatie"] == "Maximaal 2500 tekens; je hebt er nu 10000."
    with served.database.session() as session:
        assert list(session.scalars(select(Casus))) == []
    assert served.slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("kind", [*sorted(HOSTILE), "long"])
async def test_hostile_text_in_a_thread_reply_is_stored_clean_and_never_pings(
    served: ServedApp, kind: str
) -> None:
    hostile = LONG if kind == "long" else HOSTILE[kind]
    casus = await bring_in(served)
    event = thread_reply_event(
        hostile, thread_ts=casus.message_id or "", ts="1700000080.000400", event_id=f"Ev{kind}"
    )
    status, text = await post_json(served, event)
    assert status == 200, text
    await served.idle()
    assert_never_pings(served)
    with served.database.session() as session:
        (bijdrage,) = session.scalars(select(Bijdrage))
        assert "\x00" not in bijdrage.text
        assert bijdrage.text == hostile.replace("\x00", "").strip()


async def test_nul_bytes_in_ids_of_a_signed_event_do_not_crash_the_database(
    served: ServedApp,
) -> None:
    """PostgreSQL refuses NUL in text; ids are not cleaned like text, so check they fail
    softly: answered without a 5xx, nothing stored, and a clean redelivery still counts."""
    casus = await bring_in(served)
    event = thread_reply_event(
        "Goed punt.", thread_ts=casus.message_id or "", ts="1700000085.0\x00", event_id="Ev\x00NUL"
    )
    event["event"]["user"] = "U2\x0022"
    status, text = await post_json(served, event)
    assert status < 500, text
    await served.idle()
    with served.database.session() as session:
        assert list(session.scalars(select(Bijdrage))) == []
    clean = thread_reply_event(
        "Goed punt.", thread_ts=casus.message_id or "", ts="1700000085.1", event_id="EvCLEAN"
    )
    status, _ = await post_json(served, clean)
    assert status == 200
    with served.database.session() as session:
        assert len(list(session.scalars(select(Bijdrage)))) == 1
