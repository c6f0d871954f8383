"""An anonymous casus on Slack: no author on the post, no user id in the database, and still
only its inbrenger can close it (through the keyed hash)."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import MetaData, select

from handlers.casus.anonymous import inbrenger_hash
from storage.models import Casus, CasusStatus
from tests.bot.slack.test_casus_flow import CLEAN, casussen, open_intake, post
from tests.conftest import RunningServer
from tests.support.signing import block_action, interactive_body, view_submission

SECRET = b"test-secret-for-the-keyed-hash-0123456789"


@pytest.fixture
def with_secret(server: RunningServer) -> RunningServer:
    server.services.runtime.hmac_secret = SECRET
    return server


def everything_stored(server: RunningServer) -> str:
    """Every value in every table, as one string."""
    metadata = MetaData()
    metadata.reflect(server.database.engine)
    rows: list[str] = []
    with server.database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    return "\n".join(rows)


async def bring_in_anonymously(server: RunningServer) -> Casus:
    view = await open_intake(server)
    choice = next(b for b in view["blocks"] if b.get("block_id") == "anoniem")
    assert choice["element"]["initial_option"]["value"] == "nee"
    values = {**CLEAN, "anoniem": "ja"}
    status, text = await post(server, interactive_body(view_submission(view, values)))
    assert status == 200 and "errors" not in text, text
    await server.slack.wait_for("chat.postMessage")
    for _ in range(100):
        (casus,) = casussen(server)
        if casus.status == CasusStatus.OPEN:
            return casus
        await asyncio.sleep(0.02)
    raise AssertionError("the casus was not marked posted")


async def test_without_a_secret_there_is_no_anonymous_option(server: RunningServer) -> None:
    view = await open_intake(server)
    assert "anoniem" not in [b.get("block_id") for b in view["blocks"]]


async def test_an_anonymous_casus_shows_no_author_and_stores_no_user_id(
    with_secret: RunningServer,
) -> None:
    casus = await bring_in_anonymously(with_secret)
    posted = with_secret.slack.calls_to("chat.postMessage")[-1]
    rendered = json.dumps(posted, ensure_ascii=False)
    assert "U111" not in rendered and "<@" not in rendered
    assert "anoniem" in rendered
    assert casus.anonymous is True
    assert casus.inbrenger_hash == inbrenger_hash(SECRET, "slack", "U111")
    stored = everything_stored(with_secret)
    assert "U111" not in stored and "u111" not in stored


async def test_only_the_anonymous_inbrenger_can_close_it(with_secret: RunningServer) -> None:
    casus = await bring_in_anonymously(with_secret)
    respond = with_secret.slack.response_base + "other"
    await post(
        with_secret,
        interactive_body(
            block_action("casus_afronden", str(casus.id), user="U222", response_url=respond)
        ),
    )
    for _ in range(200):
        if with_secret.slack.responses:
            break
        await asyncio.sleep(0.01)
    _key, refusal = with_secret.slack.responses[-1]
    assert "anoniem" in refusal["text"] and "U111" not in refusal["text"]
    assert len(with_secret.slack.calls_to("views.open")) == 1

    await post(
        with_secret, interactive_body(block_action("casus_afronden", str(casus.id), user="U111"))
    )
    close_view = (await with_secret.slack.wait_for("views.open", 2))[-1]["view"]
    values = {"inzicht": "Rust helpt.", "stap": "Morgen bel ik de school."}
    status, text = await post(
        with_secret, interactive_body(view_submission(close_view, values, user="U111"))
    )
    assert status == 200 and "errors" not in text
    note = (await with_secret.slack.wait_for("chat.postMessage", 2))[-1]
    assert "<@U111>" not in json.dumps(note)
    (closed,) = casussen(with_secret)
    assert closed.status == CasusStatus.CLOSED
    assert "U111" not in everything_stored(with_secret)


async def test_a_casus_with_a_name_keeps_its_author(with_secret: RunningServer) -> None:
    view = await open_intake(with_secret)
    status, _ = await post(
        with_secret, interactive_body(view_submission(view, {**CLEAN, "anoniem": "nee"}))
    )
    assert status == 200
    posted = (await with_secret.slack.wait_for("chat.postMessage"))[-1]
    assert "<@U111>" in json.dumps(posted)
