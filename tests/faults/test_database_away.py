"""The database going away under a running ``leerkring serve``, in a PostgreSQL cluster owned
by the test (stopping the shared one would break everyone else's tests).

- A /casus form submitted while the database is down: the form shows the clear "nothing was
  stored, try again" error, nothing is posted or stored; submitted again once the database is
  back, it is stored and posted once.
- A thread reply delivered while the database is down: Slack gets a 500 so it redelivers;
  the redelivery after the database is back stores exactly one bijdrage.
- The database stops while the casus is being posted (written, posted, not yet recorded):
  the scheduler finds the post by its metadata key once the database is back.
- The database stops in the middle of a reflection DM fan-out: everyone still gets the prompt
  exactly once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine, func, select

from storage import migrate
from storage.db import Database
from storage.models import Bijdrage, Casus, CasusStatus, PostedMessage, PromptDelivery
from tests.conftest import IN_CI
from tests.faults.own_postgres import OwnPostgres, why_not_available
from tests.faults.processes import Fleet, Served, serve_env, wait_healthy, wait_until
from tests.faults.test_fanout_kill import due_dm_schedule
from tests.support.signing import (
    command_body,
    interactive_body,
    signed_headers,
    thread_reply_event,
    view_submission,
)
from tests.support.slack_standin import Call, SlackStandIn

pytestmark = pytest.mark.slow

FORM = "application/x-www-form-urlencoded"
ERROR_DB = "Er ging iets mis bij het opslaan. Er is niets bewaard"
CASUS = {
    "titel": "Jongere zonder dak",
    "situatie": "Een jongere van 19 slaapt bij vrienden en heeft geen inkomen.",
    "knelpunt": "",
    "onzeker": "",
    "vraag": "Wie pakt dit op?",
    "perspectieven": ["jeugd"],
}
TIMEOUT = aiohttp.ClientTimeout(total=20)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    problem = why_not_available()
    if problem is not None:
        if IN_CI:  # as for the shared cluster: CI must run these
            pytest.fail(f"cannot run a PostgreSQL of our own: {problem}")
        pytest.skip(f"cannot run a PostgreSQL of our own: {problem}")
    instance = OwnPostgres.create()
    try:
        engine = create_engine(instance.url)
        migrate.upgrade(engine)
        engine.dispose()
        yield instance
    finally:
        instance.close()


async def send(
    served: Served, body: str, content_type: str = FORM, **extra: str
) -> tuple[int, str]:
    headers = {**signed_headers(body, content_type), **extra}
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.post(f"{served.url}/slack/events", data=body.encode(), headers=headers) as resp,
    ):
        return resp.status, await resp.text()


async def open_form(served: Served, slack: SlackStandIn) -> dict[str, Any]:
    before = len(slack.calls_to("views.open"))
    status, text = await send(served, command_body("/casus"))
    assert status == 200, text
    return (await slack.wait_for("views.open", before + 1, within=10))[-1]["view"]


def counts(url: str) -> dict[str, int]:
    database = Database.from_url(url)
    try:
        with database.session() as session:
            return {
                model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Casus, Bijdrage, PostedMessage)
            }
    finally:
        database.dispose()


def channel_posts(slack: SlackStandIn) -> list[dict[str, Any]]:
    return [c for c in slack.calls_to("chat.postMessage") if c["channel"] == "C100"]


async def start_server(fleet: Fleet, pg: OwnPostgres, slack: SlackStandIn) -> Served:
    served = fleet.start("serve", serve_env(pg.url, slack.url))
    await wait_healthy(served)
    return served


async def test_casus_form_while_the_database_is_down_gets_a_clear_error_and_stores_nothing(
    own_postgres: OwnPostgres, slack_api: SlackStandIn, fleet: Fleet
) -> None:
    served = await start_server(fleet, own_postgres, slack_api)
    view = await open_form(served, slack_api)  # the form opened while all was well
    submission = interactive_body(view_submission(view, CASUS))

    own_postgres.stop()
    status, text = await send(served, submission)
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert ERROR_DB in answer["errors"]["titel"]  # shown in the form; their text stays there
    assert "Traceback" not in text and "psycopg" not in text
    assert channel_posts(slack_api) == []

    own_postgres.start()
    await wait_healthy(served)
    assert counts(own_postgres.url) == {"Casus": 0, "Bijdrage": 0, "PostedMessage": 0}
    status, text = await send(served, submission)  # the person presses "Inbrengen" again
    assert status == 200 and "errors" not in text, text
    await slack_api.wait_for("chat.postMessage", 1, within=10)
    await wait_until(
        lambda: counts(own_postgres.url)["PostedMessage"] == 1, 10, "the post was recorded"
    )
    assert len(channel_posts(slack_api)) == 1
    assert counts(own_postgres.url) == {"Casus": 1, "Bijdrage": 0, "PostedMessage": 1}
    assert "Traceback" not in served.output()


async def test_thread_reply_while_the_database_is_down_is_redelivered_and_stored_once(
    own_postgres: OwnPostgres, slack_api: SlackStandIn, fleet: Fleet
) -> None:
    served = await start_server(fleet, own_postgres, slack_api)
    view = await open_form(served, slack_api)
    status, text = await send(served, interactive_body(view_submission(view, CASUS)))
    assert status == 200 and "errors" not in text, text
    (post,) = await slack_api.wait_for("chat.postMessage", 1, within=10)
    await wait_until(lambda: counts(own_postgres.url)["PostedMessage"] == 1, 10, "recorded")
    event = thread_reply_event(
        "Misschien kan de jongerenwerker helpen.",
        thread_ts=slack_api.history["C100"][0]["ts"],
        ts="1700000090.000300",
        event_id="Ev0DBAWAY",
    )
    assert post["channel"] == "C100"

    own_postgres.stop()
    status, text = await send(served, json.dumps(event), "application/json")
    assert status == 500  # Slack redelivers a 500 (up to three times, with backoff)
    assert "Traceback" not in text and "psycopg" not in text

    own_postgres.start()
    await wait_healthy(served)
    assert counts(own_postgres.url)["Bijdrage"] == 0  # nothing half-written
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    status, _ = await send(served, json.dumps(event), "application/json", **retry)
    assert status == 200
    retry = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
    status, _ = await send(served, json.dumps(event), "application/json", **retry)
    assert status == 200
    assert counts(own_postgres.url)["Bijdrage"] == 1
    database = Database.from_url(own_postgres.url)
    try:
        with database.session() as session:
            (bijdrage,) = session.scalars(select(Bijdrage))
            assert bijdrage.message_id == "1700000090.000300"
            casus = session.get(Casus, bijdrage.casus_id)
            assert casus is not None and casus.status == CasusStatus.OPEN
    finally:
        database.dispose()
    assert "Traceback" not in served.output()


async def test_database_stops_while_the_casus_is_being_posted(
    own_postgres: OwnPostgres, slack_api: SlackStandIn, fleet: Fleet
) -> None:
    """The hard case: the casus row is written, the post reaches Slack, and the database is
    gone before the post is recorded. The person sees their casus in the channel; when the
    database is back, the scheduler finds the post by its metadata key and records it, so
    thread replies under it count. Nothing is posted twice."""
    env = serve_env(
        own_postgres.url, slack_api.url, LEERKRING_SCHEDULER="true", LEERKRING_TICK_SECONDS="1"
    )
    served = fleet.start("serve", env)
    await wait_healthy(served)
    view = await open_form(served, slack_api)
    stopped: list[Call] = []

    def stop_the_database_on_the_post(call: Call) -> None:
        if call.method == "chat.postMessage" and not stopped:
            own_postgres.stop("immediate")  # as if the database server lost power
            stopped.append(call)

    slack_api.on_call = stop_the_database_on_the_post
    status, text = await send(served, interactive_body(view_submission(view, CASUS)))
    slack_api.on_call = None
    assert status == 200 and "errors" not in text, text  # the casus is in the channel
    (post,) = channel_posts(slack_api)
    assert post["metadata"]["event_payload"]["key"].startswith("leerkring:casus:")

    own_postgres.start()
    await wait_healthy(served)
    database = Database.from_url(own_postgres.url)
    try:
        with database.session() as session:
            (casus,) = session.scalars(select(Casus))
            assert casus.status == CasusStatus.POSTING and casus.message_id is None
            # Time passes: the reconciler leaves posts younger than a minute to their request.
            casus.created_at = casus.created_at - timedelta(minutes=2)
        await wait_until(
            lambda: counts(own_postgres.url)["PostedMessage"] == 1, 15, "the post was recovered"
        )
        with database.session() as session:
            (casus,) = session.scalars(select(Casus))
            assert casus.status == CasusStatus.OPEN
            assert casus.message_id == slack_api.history["C100"][0]["ts"]
    finally:
        database.dispose()

    event = thread_reply_event(
        "Ik ken een goede plek.", thread_ts=casus.message_id, ts="1700000095.1", event_id="EvREC"
    )
    status, _ = await send(served, json.dumps(event), "application/json")
    assert status == 200
    assert counts(own_postgres.url) == {"Casus": 1, "Bijdrage": 1, "PostedMessage": 1}
    assert len(channel_posts(slack_api)) == 1
    assert "its unrecorded post was found and recorded" in served.output()


async def test_database_goes_away_in_the_middle_of_a_dm_fan_out(
    own_postgres: OwnPostgres, slack_api: SlackStandIn, fleet: Fleet
) -> None:
    """The database stops after the 20th of 60 reflection DMs and comes back after the
    scheduler noticed. Everyone gets the prompt exactly once, and every row says sent."""
    members = [f"U{n:03d}" for n in range(60)]
    slack_api.members["C700"] = members
    slack_api.delay["chat.postMessage"] = 0.02
    due_dm_schedule(own_postgres.url, "C700")
    stopped: list[Call] = []

    def stop_the_database_on_the_twentieth_dm(call: Call) -> None:
        sent = len(slack_api.calls_to("chat.postMessage"))
        if call.method == "chat.postMessage" and not stopped and sent == 20:
            own_postgres.stop("fast")
            stopped.append(call)

    slack_api.on_call = stop_the_database_on_the_twentieth_dm
    env = serve_env(
        own_postgres.url, slack_api.url, LEERKRING_SCHEDULER="true", LEERKRING_TICK_SECONDS="1"
    )
    served = fleet.start("serve", env)
    await wait_until(lambda: stopped, 30, "the fan-out reached the 20th DM")
    await wait_until(
        lambda: (
            "cannot reach the database" in served.output()
            or "lost its leader connection" in served.output()
        ),
        15,
        "the scheduler noticed the database is gone",
    )
    slack_api.on_call = None
    own_postgres.start()

    def all_sent() -> bool:
        database = Database.from_url(own_postgres.url)
        try:
            with database.session() as session:
                rows = list(session.scalars(select(PromptDelivery)))
                return len(rows) == len(members) and all(r.status == "sent" for r in rows)
        finally:
            database.dispose()

    await wait_until(all_sent, 30, "every row is sent")
    received = Counter(str(c["channel"]) for c in slack_api.calls_to("chat.postMessage"))
    assert received == Counter({f"D{m}": 1 for m in members}), {
        k: v for k, v in received.items() if v != 1
    }
    assert served.process.poll() is None  # it kept running
