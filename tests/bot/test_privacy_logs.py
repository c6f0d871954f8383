"""No log line contains what people typed: every flow that takes text, at DEBUG, scanned."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.bot.slack.test_casus_flow import CLEAN, casussen, open_intake, post, post_json
from tests.conftest import RunningServer
from tests.support.signing import (
    block_action,
    interactive_body,
    thread_reply_event,
    view_submission,
)

# Distinctive words in every field, so any echo of submitted text shows up in the scan.
MARK = "Zwaluwstaart"
BSN = "111222333"


async def test_no_submitted_text_reaches_the_logs(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typed = {
        "titel": f"{MARK}titel",
        "situatie": f"{MARK}situatie met een moeder en drie kinderen.",
        "knelpunt": f"{MARK}knelpunt",
        "onzeker": f"{MARK}onzeker",
        "vraag": f"{MARK}vraag?",
        "perspectieven": CLEAN["perspectieven"],
    }
    # Blocked first (an identifier), then accepted.
    view = await open_intake(server, title=f"{MARK}opdracht")
    await post(server, interactive_body(view_submission(view, {**typed, "vraag": f"BSN {BSN}"})))
    await post(server, interactive_body(view_submission(view, typed)))
    await server.slack.wait_for("chat.postMessage")
    for _ in range(100):
        (casus,) = casussen(server)
        if casus.message_id:
            break
        await asyncio.sleep(0.02)
    # A thread reply with an identifier, and one without.
    for n, text in enumerate((f"{MARK}draad BSN {BSN}", f"{MARK}draad schoon")):
        await post_json(
            server,
            thread_reply_event(
                text, thread_ts=casus.message_id or "", ts=f"1700000080.{n}", event_id=f"Ev{n}"
            ),
        )
    await server.slack.wait_for("chat.postEphemeral")
    # Redelivered by Slack: logged (by id), which also shows the capture works.
    duplicate = thread_reply_event(
        f"{MARK}draad schoon", thread_ts=casus.message_id or "", ts="1700000080.1", event_id="Ev1"
    )
    await post_json(server, duplicate)
    # Closing, with text in both fields.
    await post(server, interactive_body(block_action("casus_afronden", str(casus.id), user="U111")))
    close_view = (await server.slack.wait_for("views.open", 2))[-1]["view"]
    closing = {"inzicht": f"{MARK}inzicht", "stap": f"{MARK}stap"}
    await post(server, interactive_body(view_submission(close_view, closing, user="U111")))
    await server.slack.wait_for("chat.update")

    assert any("duplicate delivery Ev1" in r.getMessage() for r in caplog.records), (
        "the capture saw nothing: the scan would prove nothing"
    )
    logged = (
        "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
        + caplog.text
    )
    assert MARK.lower() not in logged.lower()
    assert BSN not in logged
