"""Names in reflection answers and speedspar takeaways on Slack, with the strict guard (deduce):
the same choice as in the casus forms (not a client, or pseudonymise), and a reply typed under
a reflection prompt is stored pseudonymised with a private notice to its author."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.core.context import HandlerContext
from handlers.core.events import Actor, Place, ThreadMessage
from handlers.privacy.deduce import DeduceGuard
from handlers.reflection import chat as reflection
from handlers.reflection import steps as reflection_steps
from handlers.speedsparren.queries import speedspar_repo
from handlers.speedsparren.rounds import Request, create_session
from storage.models import Answer, SpeedsparTakeaway
from tests.bot.slack.test_casus_flow import post, post_json
from tests.conftest import RunningServer
from tests.support.signing import (
    block_action,
    interactive_body,
    thread_reply_event,
    view_submission,
)

PROMPT_TS = "1700000500.000100"
NAMED = "Vandaag sprak ik Fatima el Amrani op school. Fatima el Amrani lachte weer."
COLLEAGUE = "Mijn collega Pieter de Boer hielp met de methode van Gordon."


@pytest.fixture
def strict(server: RunningServer, strict_guard: DeduceGuard) -> RunningServer:
    server.services.runtime.guard = strict_guard
    return server


def _posted_prompt(ctx: HandlerContext) -> int:
    """A weekly "wat ging goed?" prompt, fired and posted in C100 (as the scheduler does)."""
    channel = ctx.repos.channels.ensure("slack", "C100")
    schedule = reflection.create_schedule(
        ctx, channel, reflection.NewSchedule("wat-ging-goed", "elke vrijdag om 15:00"), None
    )
    fired = reflection_steps.fire_run(ctx, schedule, ctx.now(), key="test-run")
    assert fired.run_id is not None
    reflection_steps.mark_posted(ctx, fired.run_id, PROMPT_TS)
    return fired.run_id


def answers(server: RunningServer) -> list[tuple[str, str, str]]:
    with server.database.session() as session:
        rows = session.scalars(select(Answer).order_by(Answer.id)).all()
        return [(a.member.platform_user_id, a.question_id, a.text) for a in rows]


async def _answer_form(server: RunningServer, run_id: int, user: str) -> dict[str, Any]:
    before = len(server.slack.calls_to("views.open"))
    await post(server, interactive_body(block_action("reflectie_antwoord", str(run_id), user=user)))
    return (await server.slack.wait_for("views.open", before + 1))[-1]["view"]


async def _submit(
    server: RunningServer, view: dict[str, Any], values: dict[str, str], user: str
) -> dict[str, Any]:
    status, text = await post(server, interactive_body(view_submission(view, values, user=user)))
    assert status == 200, text
    return json.loads(text or "{}")


async def test_a_reflection_answer_with_a_name_gets_the_choice_and_is_stored_pseudonymised(
    strict: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run_id = strict.services.runtime.call_sync(_posted_prompt)
    view = await _answer_form(strict, run_id, "U1")
    choice = next(b for b in view["blocks"] if b.get("block_id") == "privacy_bevestiging")
    assert choice["element"]["initial_option"]["value"] == "controleer"
    labels = [o["text"]["text"] for o in choice["element"]["options"]]
    assert "Anonimiseer automatisch: namen worden [PERSOON-1] enz." in labels

    named = {"goed": NAMED, "bijdrage": "Ik luisterde naar Fatima el Amrani."}
    answer = await _submit(strict, view, named, "U1")
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"privacy_bevestiging"}
    assert "Amrani" not in json.dumps(answer)
    assert answers(strict) == []

    answer = await _submit(strict, view, {**named, "privacy_bevestiging": "anonimiseer"}, "U1")
    assert answer.get("response_action") != "errors", answer
    # Numbered across the whole answer: the same name is the same placeholder in both fields.
    assert answers(strict) == [
        ("U1", "goed", "Vandaag sprak ik [PERSOON-1] op school. [PERSOON-1] lachte weer."),
        ("U1", "bijdrage", "Ik luisterde naar [PERSOON-1]."),
    ]
    shared = (await strict.slack.wait_for("chat.postMessage"))[-1]
    assert shared["thread_ts"] == PROMPT_TS
    shown = json.dumps(shared, ensure_ascii=False)
    assert "[PERSOON-1] lachte weer" in shown and "Amrani" not in shown and "Fatima" not in shown
    assert "Amrani" not in caplog.text and "lachte weer" not in caplog.text


async def test_a_reflection_answer_about_a_colleague_is_stored_as_typed(
    strict: RunningServer,
) -> None:
    run_id = strict.services.runtime.call_sync(_posted_prompt)
    view = await _answer_form(strict, run_id, "U2")
    answer = await _submit(
        strict, view, {"goed": COLLEAGUE, "privacy_bevestiging": "geen_client"}, "U2"
    )
    assert answer.get("response_action") != "errors", answer
    assert answers(strict) == [("U2", "goed", COLLEAGUE)]
    shared = (await strict.slack.wait_for("chat.postMessage"))[-1]
    assert "Pieter de Boer" in json.dumps(shared, ensure_ascii=False)


async def test_hard_identifiers_block_a_reflection_answer_whatever_is_chosen(
    strict: RunningServer,
) -> None:
    run_id = strict.services.runtime.call_sync(_posted_prompt)
    view = await _answer_form(strict, run_id, "U1")
    values = {"goed": "Haar BSN is 111222333.", "privacy_bevestiging": "geen_client"}
    answer = await _submit(strict, view, values, "U1")
    assert set(answer["errors"]) == {"goed"}
    assert "111222333" not in json.dumps(answer)
    assert answers(strict) == []


async def test_a_reply_under_the_prompt_is_stored_pseudonymised_and_its_author_told(
    strict: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    strict.services.runtime.call_sync(_posted_prompt)
    event = thread_reply_event(
        "Goed gesprek met Jan de Vries op kantoor. Jan de Vries belt terug: 06-12345678.",
        thread_ts=PROMPT_TS,
        ts="1700000600.000200",
        user="U3",
        event_id="EvReflName",
    )
    status, _ = await post_json(strict, event)
    assert status == 200
    notice = (await strict.slack.wait_for("chat.postEphemeral"))[-1]
    shown = json.dumps(notice, ensure_ascii=False)
    assert notice["user"] == "U3" and notice["channel"] == "C100"
    assert "Vries" not in shown and "12345678" not in shown and "Bericht bewerken" in shown
    assert answers(strict) == [
        ("U3", "goed", "Goed gesprek met [PERSOON-1] op kantoor. [PERSOON-1] belt terug: [PHONE].")
    ]

    # A second reply adds to the answer; a redelivery of the first stores nothing twice.
    again = thread_reply_event(
        "En de school doet mee.", thread_ts=PROMPT_TS, ts="1700000601.1", user="U3", event_id="Ev2"
    )
    await post_json(strict, again)
    await post_json(strict, event)
    stored = answers(strict)
    assert stored == [
        (
            "U3",
            "goed",
            "Goed gesprek met [PERSOON-1] op kantoor. [PERSOON-1] belt terug: [PHONE].\n\n"
            "En de school doet mee.",
        )
    ]
    assert len(strict.slack.calls_to("chat.postEphemeral")) == 1  # only the reply with findings
    assert "Vries" not in caplog.text and "school doet mee" not in caplog.text


async def test_a_reply_under_something_else_is_not_an_answer(strict: RunningServer) -> None:
    strict.services.runtime.call_sync(_posted_prompt)
    event = thread_reply_event(
        "Ik sprak Jan de Vries.", thread_ts="1700000999.9", ts="1700001000.1", user="U3"
    )
    status, _ = await post_json(strict, event)
    assert status == 200
    assert answers(strict) == []


async def test_replies_under_a_prompt_that_arrive_together_are_each_stored_once(
    server: RunningServer,
) -> None:
    """Under load the writer stores the replies that arrived together in one unit of work:
    one lookup of their threads for the whole batch, and each reply under the prompt still
    becomes (part of) its author's answer, in the order they arrived."""
    runtime = server.services.runtime
    runtime.call_sync(_posted_prompt)
    place = Place("slack", "C100", "T1")

    def reply(n: int, thread: str = PROMPT_TS, user: str | None = None) -> ThreadMessage:
        actor = Actor("slack", user or f"U{n % 3 + 1}", None, "T1")
        return ThreadMessage(actor, place, thread, f"1700000700.{n:06d}", f"Antwoord {n}", f"B{n}")

    batch = [reply(n) for n in range(9)]
    batch.insert(4, reply(90, thread="1700000999.9"))  # under something else: not an answer
    batch.append(reply(0))  # the same delivery twice in one batch
    outcomes = runtime.handle_batch_sync(batch)
    assert [o.failure for o in outcomes] == [None] * 11
    assert [o.duplicate for o in outcomes] == [False] * 10 + [True]
    assert answers(server) == [
        ("U1", "goed", "Antwoord 0\n\nAntwoord 3\n\nAntwoord 6"),
        ("U2", "goed", "Antwoord 1\n\nAntwoord 4\n\nAntwoord 7"),
        ("U3", "goed", "Antwoord 2\n\nAntwoord 5\n\nAntwoord 8"),
    ]
    # Delivered again (Slack's retry after a lost ack): nothing is added.
    again = runtime.handle_batch_sync([reply(1), reply(2)])
    assert [o.duplicate for o in again] == [True, True]
    assert len(answers(server)) == 3 and "Antwoord 1\n\nAntwoord 4" in answers(server)[1][2]


# --- speedspar takeaways ----------------------------------------------------------------------


def _session(ctx: HandlerContext) -> int:
    channel = ctx.repos.channels.ensure("slack", "C200")
    start = datetime.now(UTC) + timedelta(minutes=5)
    created = create_session(ctx, channel, Request(starts_at=start, rounds=1), None)
    for user_id in ("U1", "U2"):
        speedspar_repo(ctx).join(created, ctx.repos.members.ensure("slack", user_id))
    return created.id


def takeaways(server: RunningServer) -> list[tuple[str, str]]:
    with server.database.session() as session:
        rows = session.scalars(select(SpeedsparTakeaway).order_by(SpeedsparTakeaway.id)).all()
        return [(t.member.platform_user_id, t.text) for t in rows]


async def _takeaway_form(server: RunningServer, session_id: int, user: str) -> dict[str, Any]:
    before = len(server.slack.calls_to("views.open"))
    body = block_action("speedspar_meenemen", str(session_id), user=user, channel="D" + user)
    await post(server, interactive_body(body))
    return (await server.slack.wait_for("views.open", before + 1))[-1]["view"]


async def test_a_takeaway_with_a_name_gets_the_choice_and_is_stored_pseudonymised(
    strict: RunningServer,
) -> None:
    session_id = strict.services.runtime.call_sync(_session)
    view = await _takeaway_form(strict, session_id, "U1")
    assert "privacy_bevestiging" in [b.get("block_id") for b in view["blocks"]]
    named = {"meenemen": "Ik bel Fatima el Amrani in Zwolle terug."}
    answer = await _submit(strict, view, named, "U1")
    assert set(answer["errors"]) == {"privacy_bevestiging"}
    assert "Amrani" not in json.dumps(answer)
    assert takeaways(strict) == []

    answer = await _submit(strict, view, {**named, "privacy_bevestiging": "anonimiseer"}, "U1")
    assert answer.get("response_action") != "errors", answer
    ((user, text),) = takeaways(strict)
    assert user == "U1"
    assert "[PERSOON-1]" in text and "Fatima" not in text and "Amrani" not in text
    # The place goes with the person (issue #15): one finding, one placeholder.
    assert text == "Ik bel [PERSOON-1] terug."
    saved = (await strict.slack.wait_for("chat.postEphemeral"))[-1]
    assert "Amrani" not in json.dumps(saved, ensure_ascii=False)


async def test_a_takeaway_about_a_colleague_is_stored_as_typed(strict: RunningServer) -> None:
    session_id = strict.services.runtime.call_sync(_session)
    view = await _takeaway_form(strict, session_id, "U2")
    values = {"meenemen": COLLEAGUE, "privacy_bevestiging": "geen_client"}
    answer = await _submit(strict, view, values, "U2")
    assert answer.get("response_action") != "errors", answer
    assert takeaways(strict) == [("U2", COLLEAGUE)]


async def test_the_basic_guard_shows_no_choice_and_still_blocks_identifiers(
    server: RunningServer,
) -> None:
    session_id = server.services.runtime.call_sync(_session)
    view = await _takeaway_form(server, session_id, "U1")
    assert "privacy_bevestiging" not in [b.get("block_id") for b in view["blocks"]]
    answer = await _submit(server, view, {"meenemen": "Mail haar: fatima@example.nl"}, "U1")
    assert set(answer["errors"]) == {"meenemen"}
    assert takeaways(server) == []
