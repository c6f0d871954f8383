"""A casus with a client's name on Slack, with the strict guard (deduce): the person chooses to
pseudonymise (and approves the result) or confirms that it is not a client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select

from handlers.privacy.deduce import DeduceGuard
from storage.models import Bijdrage, Casus, CasusStatus
from tests.bot.slack.test_casus_flow import CLEAN, casussen, open_intake, post, post_json
from tests.conftest import RunningServer
from tests.support.signing import (
    block_action,
    interactive_body,
    thread_reply_event,
    view_submission,
)

NAMED = {
    **CLEAN,
    "situatie": "Moeder Fatima el Amrani heeft drie kinderen en huurachterstand. Fatima el "
    "Amrani wil geen hulp.",
}


@pytest.fixture
def strict(server: RunningServer, strict_guard: DeduceGuard) -> RunningServer:
    server.services.runtime.guard = strict_guard
    return server


async def _submit(server: RunningServer, values: dict[str, Any]) -> dict[str, Any]:
    view = await open_intake(server)
    status, text = await post(server, interactive_body(view_submission(view, values)))
    assert status == 200, text
    return json.loads(text or "{}")


async def test_the_strict_intake_asks_what_to_do_with_names(strict: RunningServer) -> None:
    view = await open_intake(strict)
    choice = next(b for b in view["blocks"] if b.get("block_id") == "privacy_bevestiging")
    assert choice["element"]["type"] == "static_select"
    assert choice["element"]["initial_option"]["value"] == "controleer"


async def test_a_clients_name_keeps_the_form_open_with_the_choice(strict: RunningServer) -> None:
    answer = await _submit(strict, NAMED)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"privacy_bevestiging"}
    assert "Fa" in answer["errors"]["privacy_bevestiging"]
    assert "Amrani" not in json.dumps(answer)
    assert casussen(strict) == []
    assert strict.slack.calls_to("chat.postMessage") == []


async def test_pseudonymise_shows_the_result_then_posts_it_on_approval(
    strict: RunningServer,
) -> None:
    answer = await _submit(strict, {**NAMED, "privacy_bevestiging": "anonimiseer"})
    assert answer.get("response_action") != "errors", answer
    preview = (await strict.slack.wait_for("chat.postEphemeral"))[-1]
    shown = json.dumps(preview, ensure_ascii=False)
    assert "[PERSOON-1] heeft drie kinderen" in shown and "Amrani" not in shown
    assert "casus_anoniem_plaatsen" in shown
    assert strict.slack.calls_to("chat.postMessage") == []  # nothing in the channel yet
    (draft,) = casussen(strict)
    assert draft.status == CasusStatus.PENDING
    # Stable within the text: the same name twice is the same placeholder.
    assert draft.situation.count("[PERSOON-1]") == 2 and "Fatima" not in draft.situation

    status, _ = await post(
        strict, interactive_body(block_action("casus_anoniem_plaatsen", str(draft.id), user="U111"))
    )
    assert status == 200
    posted = (await strict.slack.wait_for("chat.postMessage"))[-1]
    rendered = json.dumps(posted, ensure_ascii=False)
    assert "[PERSOON-1]" in rendered and "Fatima" not in rendered
    for _ in range(100):  # the posted hook runs just after the post returns
        (casus,) = casussen(strict)
        if casus.status == CasusStatus.OPEN:
            break
        await asyncio.sleep(0.02)
    assert casus.status == CasusStatus.OPEN and casus.message_id is not None


async def test_someone_else_cannot_approve_and_cancel_drops_the_draft(
    strict: RunningServer,
) -> None:
    await _submit(strict, {**NAMED, "privacy_bevestiging": "anonimiseer"})
    await strict.slack.wait_for("chat.postEphemeral")
    (draft,) = casussen(strict)
    await post(
        strict, interactive_body(block_action("casus_anoniem_plaatsen", str(draft.id), user="U999"))
    )
    await strict.slack.wait_for("chat.postEphemeral", 2)
    assert strict.slack.calls_to("chat.postMessage") == []
    await post(
        strict,
        interactive_body(block_action("casus_anoniem_annuleren", str(draft.id), user="U111")),
    )
    await strict.slack.wait_for("chat.postEphemeral", 3)
    assert casussen(strict) == []


async def test_not_a_client_posts_the_text_as_written(strict: RunningServer) -> None:
    values = {
        **CLEAN,
        "situatie": "Mijn collega Pieter de Boer raadde de methode van Gordon aan.",
        "privacy_bevestiging": "geen_client",
    }
    answer = await _submit(strict, values)
    assert answer.get("response_action") != "errors", answer
    posted = (await strict.slack.wait_for("chat.postMessage"))[-1]
    assert "Pieter de Boer" in json.dumps(posted, ensure_ascii=False)


async def test_hard_identifiers_block_whatever_is_chosen(strict: RunningServer) -> None:
    values = {
        **NAMED,
        "knelpunt": "Ze woont op de Kerkstraat 12 in Zwolle.",
        "privacy_bevestiging": "geen_client",
    }
    answer = await _submit(strict, values)
    assert answer["response_action"] == "errors"
    assert "knelpunt" in answer["errors"]
    assert casussen(strict) == []


async def test_a_thread_reply_with_a_name_is_stored_pseudonymised(strict: RunningServer) -> None:
    answer = await _submit(strict, {**CLEAN, "privacy_bevestiging": "controleer"})
    assert answer.get("response_action") != "errors", answer
    await strict.slack.wait_for("chat.postMessage")
    (casus,) = casussen(strict)
    event = thread_reply_event(
        "Heb je Jan de Vries al gebeld? Jan de Vries weet meer.",
        thread_ts=casus.message_id or "",
        ts="1700000070.1",
        event_id="EvName",
    )
    await post_json(strict, event)
    notice = (await strict.slack.wait_for("chat.postEphemeral"))[-1]
    shown = json.dumps(notice, ensure_ascii=False)
    assert "Vries" not in shown and "een naam (Ja* ** *****)" in shown
    assert notice["user"] == "U222" and "Bericht bewerken" in shown  # how to fix it themselves
    with strict.database.session() as session:
        stored = session.scalars(select(Bijdrage)).one().text
    assert stored == "Heb je [PERSOON-1] al gebeld? [PERSOON-1] weet meer."
    with strict.database.session() as session:
        assert session.scalars(select(Casus)).one().status == CasusStatus.OPEN


async def _reply_form(server: RunningServer, casus_id: int) -> dict[str, Any]:
    before = len(server.slack.calls_to("views.open"))
    await post(
        server,
        interactive_body(block_action("casus_denk_mee", str(casus_id), user="U333")),
    )
    return (await server.slack.wait_for("views.open", before + 1))[-1]["view"]


async def test_a_bijdrage_with_a_name_asks_and_can_be_posted_pseudonymised(
    strict: RunningServer,
) -> None:
    await _submit(strict, {**CLEAN, "privacy_bevestiging": "controleer"})
    await strict.slack.wait_for("chat.postMessage")
    for _ in range(100):
        (casus,) = casussen(strict)
        if casus.message_id:
            break
        await asyncio.sleep(0.02)
    view = await _reply_form(strict, casus.id)
    assert "privacy_bevestiging" in [b.get("block_id") for b in view["blocks"]]
    named = {"bijdrage": "Bel Fatima el Amrani morgen, Fatima el Amrani wacht erop."}
    _status, text = await post(strict, interactive_body(view_submission(view, named, user="U333")))
    assert set(json.loads(text)["errors"]) == {"privacy_bevestiging"}
    with strict.database.session() as session:
        assert session.scalars(select(Bijdrage)).all() == []

    chosen = {**named, "privacy_bevestiging": "anonimiseer"}
    _status, text = await post(strict, interactive_body(view_submission(view, chosen, user="U333")))
    assert "errors" not in text
    posted = (await strict.slack.wait_for("chat.postMessage", 2))[-1]
    shown = json.dumps(posted, ensure_ascii=False)
    assert "Bel [PERSOON-1] morgen, [PERSOON-1] wacht erop." in shown and "Amrani" not in shown
    with strict.database.session() as session:
        stored = session.scalars(select(Bijdrage)).one().text
    assert stored == "Bel [PERSOON-1] morgen, [PERSOON-1] wacht erop."


async def test_closing_with_a_name_asks_and_can_be_pseudonymised(strict: RunningServer) -> None:
    await _submit(strict, {**CLEAN, "privacy_bevestiging": "controleer"})
    await strict.slack.wait_for("chat.postMessage")
    for _ in range(100):
        (casus,) = casussen(strict)
        if casus.message_id:
            break
        await asyncio.sleep(0.02)
    await post(strict, interactive_body(block_action("casus_afronden", str(casus.id), user="U111")))
    view = (await strict.slack.wait_for("views.open", 2))[-1]["view"]
    values = {"inzicht": "Rust helpt.", "stap": "Morgen bel ik Fatima el Amrani."}
    _status, text = await post(strict, interactive_body(view_submission(view, values, user="U111")))
    assert set(json.loads(text)["errors"]) == {"privacy_bevestiging"}
    chosen = {**values, "privacy_bevestiging": "anonimiseer"}
    _status, text = await post(strict, interactive_body(view_submission(view, chosen, user="U111")))
    assert "errors" not in text
    note = (await strict.slack.wait_for("chat.postMessage", 2))[-1]
    shown = json.dumps(note, ensure_ascii=False)
    assert "Morgen bel ik [PERSOON-1]." in shown and "Amrani" not in shown
    (closed,) = casussen(strict)
    assert closed.status == CasusStatus.CLOSED and closed.next_step == "Morgen bel ik [PERSOON-1]."
