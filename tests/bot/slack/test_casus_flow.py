"""The casus flow on Slack, through the running server with signed requests, on both databases."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import func, select

from storage import migrate
from storage.models import Bijdrage, Casus, CasusStatus, PostedMessage, ProcessedEvent
from tests.conftest import RunningServer
from tests.support.operator import STATUS_HEADERS
from tests.support.signing import (
    block_action,
    command_body,
    interactive_body,
    signed_headers,
    thread_reply_event,
    view_submission,
)

FORM = "application/x-www-form-urlencoded"
BSN = "111222333"
CLEAN = {
    "titel": "Gezin met schulden weigert hulp",
    "situatie": "Een moeder met drie kinderen heeft huurachterstand en wil geen hulp van het "
    "wijkteam.",
    "knelpunt": "Ze zegt dat eerdere hulpverleners haar niet serieus namen.",
    "onzeker": "Ik weet niet of ik de school moet betrekken.",
    "vraag": "Hoe bouw ik vertrouwen op zonder te pushen?",
    "perspectieven": ["schulden", "jeugd"],
}


async def post(
    server: RunningServer, body: str, content_type: str = FORM, **kw: Any
) -> tuple[int, str]:
    headers = signed_headers(body, content_type, **kw)
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=headers
    ) as resp:
        return resp.status, await resp.text()


async def post_json(
    server: RunningServer, payload: dict[str, Any], **headers: str
) -> tuple[int, str]:
    body = json.dumps(payload)
    all_headers = {**signed_headers(body, "application/json"), **headers}
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=all_headers
    ) as resp:
        return resp.status, await resp.text()


def count(server: RunningServer, model: type) -> int:
    with server.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def casussen(server: RunningServer) -> list[Casus]:
    with server.database.session() as session:
        return list(session.scalars(select(Casus).order_by(Casus.id)))


async def open_intake(server: RunningServer, title: str = "", user: str = "U111") -> dict[str, Any]:
    before = len(server.slack.calls_to("views.open"))
    status, text = await post(server, command_body("/casus", title, user=user))
    assert status == 200, text
    calls = await server.slack.wait_for("views.open", before + 1)
    return calls[-1]["view"]


async def bring_in(
    server: RunningServer, values: dict[str, Any] = CLEAN, user: str = "U111"
) -> Casus:
    view = await open_intake(server, user=user)
    before = len(server.slack.calls_to("chat.postMessage"))
    status, text = await post(server, interactive_body(view_submission(view, values, user=user)))
    assert status == 200, text
    assert json.loads(text or "{}").get("response_action") != "errors", text
    await server.slack.wait_for("chat.postMessage", before + 1)
    return casussen(server)[-1]


async def test_url_verification_answers_the_challenge(server: RunningServer) -> None:
    status, text = await post_json(
        server,
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        },
    )
    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in text


async def test_casus_command_opens_a_valid_prefilled_modal(server: RunningServer) -> None:
    view = await open_intake(server, "Jongere dreigt uit huis te gaan")
    View(**view).validate_json()  # raises on any Block Kit violation
    assert view["callback_id"] == "casus_intake"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["titel", "situatie", "knelpunt", "onzeker", "vraag", "perspectieven"]
    assert inputs["titel"]["element"]["initial_value"] == "Jongere dreigt uit huis te gaan"
    assert inputs["titel"]["element"]["max_length"] == 150
    assert inputs["situatie"]["optional"] is False and inputs["knelpunt"]["optional"] is True
    options = [o["value"] for o in inputs["perspectieven"]["element"]["options"]]
    assert {"jeugd", "schulden", "ggz", "lvb", "ervaringsdeskundigheid"} <= set(options)
    assert server.slack.calls_to("views.open")[-1]["trigger_id"].startswith("13345224609")


async def test_bsn_in_situatie_returns_field_errors_and_stores_nothing(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    view = await open_intake(server)
    values = {**CLEAN, "situatie": f"Moeder (BSN {BSN[:4]} {BSN[4:6]} {BSN[6:]}) heeft schulden."}
    status, text = await post(server, interactive_body(view_submission(view, values)))
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"situatie"}
    assert "BSN" in answer["errors"]["situatie"]
    assert BSN not in text and "1112 22 333" not in text
    await asyncio.sleep(0.1)
    assert count(server, Casus) == 0
    assert server.slack.calls_to("chat.postMessage") == []
    assert "1112 22 333" not in caplog.text and BSN not in caplog.text


async def test_required_fields_empty_get_errors_on_those_fields(server: RunningServer) -> None:
    view = await open_intake(server)
    values = {**CLEAN, "titel": "   ", "vraag": ""}
    _status, text = await post(server, interactive_body(view_submission(view, values)))
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"titel", "vraag"}
    assert count(server, Casus) == 0


async def test_clean_submission_posts_the_casus_and_stores_it(server: RunningServer) -> None:
    casus = await bring_in(server)
    posted = server.slack.calls_to("chat.postMessage")[-1]
    assert posted["channel"] == "C100"
    for block in posted["blocks"]:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    assert posted["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": CLEAN["titel"], "emoji": True},
    }
    rendered = json.dumps(posted["blocks"], ensure_ascii=False)
    assert "<@U111>" in rendered  # the inbrenger as a mention
    assert CLEAN["onzeker"] in rendered  # onzeker weten is visible
    assert "Schulden en geldzorgen" in rendered
    actions = next(b for b in posted["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["casus_denk_mee", "casus_afronden"]
    assert posted["text"]  # plain-text fallback
    assert casus.status == CasusStatus.OPEN
    assert casus.message_id is not None and casus.message_id.startswith("1700000000.")
    assert sorted(casus.perspectives) == ["jeugd", "schulden"]
    assert casus.uncertainty == CLEAN["onzeker"]
    assert count(server, PostedMessage) == 1


async def test_user_text_is_escaped_and_never_pings(server: RunningServer) -> None:
    hostile = {
        **CLEAN,
        "titel": "Let op <!channel> en <!here>",
        "situatie": "Zie <@U999> & <https://evil.example|klik> <!subteam^S1> @channel",
    }
    await bring_in(server, hostile)
    posted = server.slack.calls_to("chat.postMessage")[-1]
    everything = json.dumps(posted, ensure_ascii=False)
    for ping in ("<!channel>", "<!here>", "<@U999>", "<!subteam^S1>", "<https://evil"):
        assert ping not in everything
    assert "&lt;@U999&gt; &amp; &lt;https://evil.example|klik&gt;" in everything
    for block in posted["blocks"]:
        if block["type"] == "section":
            assert block["text"]["verbatim"] is True


async def test_thread_reply_is_stored_once_even_when_redelivered(server: RunningServer) -> None:
    casus = await bring_in(server)
    event = thread_reply_event(
        "Ik zou eerst vragen wat zij zelf wil.",
        thread_ts=casus.message_id or "",
        ts="1700000050.000100",
        event_id="Ev0REPLY1",
    )
    status, _ = await post_json(server, event)
    assert status == 200
    # Slack retries carry X-Slack-Retry-Num; deliver again, some concurrently.
    results = await asyncio.gather(
        *[
            post_json(
                server,
                event,
                **{"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"},
            )
            for n in (1, 2, 3)
        ]
    )
    assert all(status == 200 for status, _ in results)
    with server.database.session() as session:
        rows = list(session.scalars(select(Bijdrage)))
        assert len(rows) == 1
        assert rows[0].text == "Ik zou eerst vragen wat zij zelf wil."
        assert rows[0].message_id == "1700000050.000100"
        assert rows[0].author.platform_user_id == "U222"
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


async def test_bot_messages_and_unrelated_threads_are_ignored(server: RunningServer) -> None:
    casus = await bring_in(server)
    own = thread_reply_event(
        "van de bot", thread_ts=casus.message_id or "", ts="1700000060.1", event_id="EvBOT"
    )
    own["event"]["bot_id"] = "BBOT01"
    own["event"]["user"] = "UBOT000001"
    other = thread_reply_event(
        "elders", thread_ts="1600000000.000001", ts="1700000061.1", event_id="EvOTHER"
    )
    edited = thread_reply_event(
        "bewerkt", thread_ts=casus.message_id or "", ts="1700000062.1", event_id="EvEDIT"
    )
    edited["event"]["subtype"] = "message_changed"
    for event in (own, other, edited):
        status, _ = await post_json(server, event)
        assert status == 200
    assert count(server, Bijdrage) == 0


async def test_identifier_in_thread_reply_is_not_stored(server: RunningServer) -> None:
    casus = await bring_in(server)
    event = thread_reply_event(
        f"Haar BSN is {BSN}, bel 06-12345678",
        thread_ts=casus.message_id or "",
        ts="1700000070.1",
        event_id="EvPII",
    )
    await post_json(server, event)
    with server.database.session() as session:
        stored = session.scalars(select(Bijdrage)).one().text
    assert BSN not in stored and "12345678" not in stored
    assert "[BSN]" in stored
    notice = await server.slack.wait_for("chat.postEphemeral")
    assert notice[-1]["user"] == "U222"
    assert BSN not in json.dumps(notice)


async def test_think_along_button_opens_reply_form_and_posts_in_thread(
    server: RunningServer,
) -> None:
    casus = await bring_in(server)
    action = block_action(
        "casus_denk_mee", str(casus.id), user="U333", message_ts=casus.message_id or ""
    )
    status, _ = await post(server, interactive_body(action))
    assert status == 200
    views = await server.slack.wait_for("views.open", 2)
    reply_view = views[-1]["view"]
    View(**reply_view).validate_json()
    assert reply_view["callback_id"] == "casus_bijdrage"
    status, text = await post(
        server,
        interactive_body(
            view_submission(reply_view, {"bijdrage": "Betrek de school pas later."}, user="U333")
        ),
    )
    assert status == 200 and "errors" not in text
    posts = await server.slack.wait_for("chat.postMessage", 2)
    assert posts[-1]["thread_ts"] == casus.message_id
    assert "Betrek de school pas later." in json.dumps(posts[-1]["blocks"], ensure_ascii=False)
    with server.database.session() as session:
        bijdrage = session.scalars(select(Bijdrage)).one()
        assert bijdrage.author.platform_user_id == "U333"
        assert bijdrage.message_id is not None


async def test_only_the_inbrenger_can_close_and_closing_stores_and_posts(
    server: RunningServer,
) -> None:
    casus = await bring_in(server)
    respond = server.slack.response_base + "other"
    status, _ = await post(
        server,
        interactive_body(
            block_action("casus_afronden", str(casus.id), user="U222", response_url=respond)
        ),
    )
    assert status == 200
    for _ in range(200):
        if server.slack.responses:
            break
        await asyncio.sleep(0.01)
    key, refusal = server.slack.responses[-1]
    assert key == "other" and refusal["response_type"] == "ephemeral"
    assert "inbrenger" in refusal["text"]
    assert len(server.slack.calls_to("views.open")) == 1  # no close form for others

    await post(server, interactive_body(block_action("casus_afronden", str(casus.id), user="U111")))
    views = await server.slack.wait_for("views.open", 2)
    close_view = views[-1]["view"]
    View(**close_view).validate_json()
    assert close_view["callback_id"] == "casus_afronden"
    values = {
        "inzicht": "Vertrouwen gaat voor snelheid.",
        "stap": "Morgen bel ik de moeder zonder agenda.",
    }
    status, text = await post(
        server, interactive_body(view_submission(close_view, values, user="U111"))
    )
    assert status == 200 and "errors" not in text
    posts = await server.slack.wait_for("chat.postMessage", 2)
    assert posts[-1]["thread_ts"] == casus.message_id
    assert "Morgen bel ik de moeder zonder agenda." in json.dumps(posts[-1], ensure_ascii=False)
    updates = await server.slack.wait_for("chat.update")
    assert updates[-1]["ts"] == casus.message_id
    assert not [b for b in updates[-1]["blocks"] if b["type"] == "actions"]
    closed = casussen(server)[-1]
    assert closed.status == CasusStatus.CLOSED
    assert closed.insight == values["inzicht"] and closed.next_step == values["stap"]
    assert closed.closed_at is not None


async def test_posting_in_a_channel_without_the_bot_keeps_the_form_and_stores_nothing(
    server: RunningServer,
) -> None:
    view = await open_intake(server)
    server.slack.fail["chat.postMessage"] = "not_in_channel"
    status, text = await post(server, interactive_body(view_submission(view, CLEAN)))
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert "/invite" in answer["errors"]["titel"]
    assert count(server, Casus) == 0


async def test_bad_signature_and_stale_timestamp_are_rejected(server: RunningServer) -> None:
    body = command_body("/casus", "x")
    status, _ = await post(server, body, secret="wrong-secret")
    assert status == 401
    status, _ = await post(server, body, timestamp=1_600_000_000)
    assert status == 401
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers={"Content-Type": FORM}
    ) as resp:
        assert resp.status == 401
    await asyncio.sleep(0.05)
    assert server.slack.calls_to("views.open") == []


async def test_unknown_command_gets_a_friendly_ephemeral_answer(server: RunningServer) -> None:
    status, text = await post(server, command_body("/onbekend", "x"))
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    assert "/onbekend" in answer["text"] and "/casus" in answer["text"]


async def test_unknown_action_is_answered_not_crashed(server: RunningServer) -> None:
    respond = server.slack.response_base + "unknown"
    status, _ = await post(
        server, interactive_body(block_action("iets_anders", "1", user="U1", response_url=respond))
    )
    assert status == 200
    for _ in range(200):
        if server.slack.responses:
            break
        await asyncio.sleep(0.01)
    assert server.slack.responses and "knop" in server.slack.responses[-1][1]["text"].lower()


@pytest.mark.parametrize(
    "body,content_type",
    [
        ("payload=%7Bnot-json", FORM),
        ("{not json", "application/json"),
        ("payload=%5B1%2C2%5D", FORM),
        ("", FORM),
    ],
)
async def test_malformed_payloads_get_4xx_without_traceback(
    server: RunningServer, body: str, content_type: str
) -> None:
    status, text = await post(server, body, content_type)
    assert 400 <= status < 500
    assert "Traceback" not in text
    assert count(server, Casus) == 0


async def test_database_outage_tells_the_person_and_keeps_the_server_up(
    server: RunningServer,
) -> None:
    view = await open_intake(server)
    real = server.services.runtime.database
    from storage.db import Database

    # A database nobody listens on: every connection attempt fails.
    server.services.runtime.database = Database.from_url(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1}
    )
    try:
        status, text = await post(server, interactive_body(view_submission(view, CLEAN)))
        assert status == 200
        answer = json.loads(text)
        assert answer["response_action"] == "errors"
        assert "niets bewaard" in answer["errors"]["titel"]
    finally:
        server.services.runtime.database.dispose()
        server.services.runtime.database = real
    assert server.slack.calls_to("chat.postMessage") == []
    assert count(server, Casus) == 0
    async with server.http.get(f"{server.url}/healthz") as resp:
        assert resp.status == 200
    # After recovery the same submission goes through.
    status, text = await post(server, interactive_body(view_submission(view, CLEAN)))
    assert "errors" not in text
    await server.slack.wait_for("chat.postMessage")
    assert count(server, Casus) == 1


async def test_thread_reply_during_outage_gets_500_then_redelivery_succeeds(
    server: RunningServer,
) -> None:
    casus = await bring_in(server)
    event = thread_reply_event(
        "Goede vraag!", thread_ts=casus.message_id or "", ts="1700000080.1", event_id="EvOUT"
    )
    real = server.services.runtime.database
    from storage.db import Database

    server.services.runtime.database = Database.from_url(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1}
    )
    try:
        status, _ = await post_json(server, event)
        assert status == 500  # Slack will redeliver
    finally:
        server.services.runtime.database.dispose()
        server.services.runtime.database = real
    assert count(server, Bijdrage) == 0
    status, _ = await post_json(
        server, event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    )
    assert status == 200
    assert count(server, Bijdrage) == 1


async def test_status_reports_database_status_to_the_operator(server: RunningServer) -> None:
    async with server.http.get(f"{server.url}/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}  # no more without the operator's token
    async with server.http.get(f"{server.url}/status") as resp:
        assert resp.status == 401
    async with server.http.get(f"{server.url}/status", headers=STATUS_HEADERS) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["schema"] == migrate.head_revision()
    assert body["slack"] == "http"


async def test_status_reports_whether_the_strict_guard_has_loaded(
    server: RunningServer, strict_guard: Any
) -> None:
    """Operators (and the benchmark) can see when names are checked: the strict guard loads in
    the background after start-up and the server is healthy meanwhile."""
    from handlers.privacy.deduce import DeduceGuard

    async def guard_state() -> str:
        async with server.http.get(f"{server.url}/status", headers=STATUS_HEADERS) as resp:
            assert resp.status == 200
            return str((await resp.json())["privacy_guard"])

    assert await guard_state() == "basic"
    services, basic = server.services, server.services.guard
    services.settings = services.settings.model_copy(update={"privacy_guard": "strict"})
    try:
        services.guard = DeduceGuard(wait_seconds=0)  # not started: still loading
        assert await guard_state() == "loading"
        services.guard = strict_guard
        assert await guard_state() == "ready"
    finally:
        services.guard = basic  # shutdown stops services.guard; the session's deduce stays


async def test_slow_post_closes_the_modal_and_a_later_failure_is_told_in_chat(
    server: RunningServer,
) -> None:
    from bot.slack import adapter

    view = await open_intake(server)
    server.slack.delay["chat.postMessage"] = adapter.FORM_DELIVERY_BUDGET + 0.5
    server.slack.fail["chat.postMessage"] = "channel_not_found"
    status, text = await post(server, interactive_body(view_submission(view, CLEAN)))
    assert status == 200
    assert "errors" not in text  # the modal closed within Slack's 3 seconds
    notices = await server.slack.wait_for("chat.postEphemeral", within=10)
    assert notices[-1]["user"] == "U111"
    assert count(server, Casus) == 0  # the unposted casus was removed again
