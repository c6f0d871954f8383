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
NAME = "Ghebremedhin"  # a client's surname, found by the strict guard's name finder


@pytest.fixture(params=["basic", "strict"])
def guarded(request: pytest.FixtureRequest, server: RunningServer) -> RunningServer:
    """The flows under both guards: the strict one also runs the name finder and the deduce
    worker (issue #15), whose findings block and warn as well."""
    if request.param == "strict":
        server.services.runtime.guard = request.getfixturevalue("strict_guard")
    return server


async def test_no_submitted_text_reaches_the_logs(
    guarded: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = guarded
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
    blocked = {**typed, "vraag": f"BSN {BSN}", "knelpunt": f"Het gezin {NAME} (geb. 03-04-2012)"}
    await post(server, interactive_body(view_submission(view, blocked)))
    await post(server, interactive_body(view_submission(view, typed)))
    await server.slack.wait_for("chat.postMessage")
    for _ in range(100):
        (casus,) = casussen(server)
        if casus.message_id:
            break
        await asyncio.sleep(0.02)
    # A thread reply with an identifier, and one without.
    replies = (f"{MARK}draad BSN {BSN}", f"{MARK}draad schoon", f"ik sprak met meneer {NAME}")
    for n, text in enumerate(replies):
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
    assert NAME.lower() not in logged.lower()
