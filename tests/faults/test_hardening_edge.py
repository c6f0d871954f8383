"""Hostile and odd requests, answered calmly (issue #12, items 1, 6, 7 and 9), against the real
server: Slack requests signed like Slack's, on both databases.

- A JSON body nested thousands deep is refused with a short 400 and one log line, no
  traceback (item 1).
- Signed payloads in shapes Leerkring does not handle answer 200 (ignored) or 400, never a
  500 or bolt's 404 (items 6 and 7).
- ``app_uninstalled`` / ``tokens_revoked`` stop the scheduled sends to the workspace, logged
  once, until a working token proves it is back (item 7).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.services import Services
from bot.slack.adapter import SlackAdapter
from handlers.reflection.chat import NewSchedule, create_schedule
from storage.models import PromptDelivery, PromptRun, RevokedWorkspace
from tests.conftest import RunningServer
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import (
    block_action,
    command_body,
    interactive_body,
    signed_headers,
    thread_reply_event,
    view_submission,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 3, 23, 10, 0, tzinfo=AMS)
FRIDAY_1500 = datetime(2026, 3, 27, 15, 0, tzinfo=AMS).astimezone(UTC)


async def post(server: RunningServer, body: str, content_type: str) -> tuple[int, str]:
    headers = signed_headers(body, content_type)
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=headers
    ) as resp:
        return resp.status, await resp.text()


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# --- item 1: nesting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param('{"type":"event_callback","event":' * 5000 + "1" + "}" * 5000, JSON, id="obj"),
        pytest.param("[" * 50_000, JSON, id="list"),
        pytest.param(interactive_body({"type": "block_actions"})[:-3] + "%5B" * 5000, FORM,
                     id="payload"),
    ],
)  # fmt: skip
async def test_deeply_nested_json_is_a_short_400_with_one_log_line(
    server: RunningServer, body: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    status, text = await post(server, body, content_type)
    assert status == 400, text
    assert (len(text) < 100 and "nested too deep" in text) or "not valid JSON" in text
    no_traceback(caplog)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and len(refused[0]) < 100, refused


async def test_nesting_within_the_limit_is_still_read(server: RunningServer) -> None:
    event = thread_reply_event("Goed idee", thread_ts="1700000000.000001", ts="1700000001.1")
    event["event"]["blocks"] = [{"type": "rich_text", "elements": [[[[[[[{"x": [1]}]]]]]]]}]
    status, _ = await post(server, json.dumps(event), JSON)
    assert status == 200


# --- items 6 and 7: shapes ------------------------------------------------------------------

USER = {"id": "U111", "username": "u111", "team_id": "T1"}


def _event(event: Any, **outer: Any) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T1", "event": event, **outer})


def _view_submission(**view_changes: Any) -> str:
    view = {"callback_id": "casus_intake", "blocks": [], "title": {"type": "plain_text"}}
    payload = view_submission(view, {})
    payload["view"].update(view_changes)
    payload["view"] = {k: v for k, v in payload["view"].items() if v is not None}
    return interactive_body(payload)


REFUSED = [
    pytest.param(_event(None), JSON, id="event-null"),
    pytest.param(_event("message"), JSON, id="event-string"),
    pytest.param(_event([1]), JSON, id="event-list"),
    pytest.param(_event({}), JSON, id="event-without-type"),
    pytest.param(_event({"type": None}), JSON, id="event-type-null"),
    pytest.param(_event({"type": "message"}, event_id=7), JSON, id="event-id-number"),
    pytest.param(_view_submission(type=None), FORM, id="view-without-type"),
    pytest.param(interactive_body({"type": "view_submission", "user": USER, "view": None}), FORM,
                 id="view-null"),
    pytest.param(_view_submission(type=1), FORM, id="view-type-number"),
    pytest.param(_view_submission(callback_id=["x"]), FORM, id="view-callback-list"),
    pytest.param(_view_submission(state="x"), FORM, id="view-state-string"),
    pytest.param(interactive_body({"type": "view_submission", "view": {"type": "modal"}}), FORM,
                 id="view-without-user"),
    pytest.param(interactive_body({"type": "block_actions", "user": USER, "actions": None}), FORM,
                 id="actions-null"),
    pytest.param(interactive_body({"type": "block_actions", "user": USER, "actions": ["x"]}), FORM,
                 id="action-string"),
    pytest.param(interactive_body({"type": "block_actions", "user": USER, "actions": [{}]}), FORM,
                 id="action-without-id"),
    pytest.param(interactive_body({**block_action("x", "1", user="U1"), "channel": "C1"}), FORM,
                 id="channel-string"),
    pytest.param(command_body("casus"), FORM, id="command-without-slash"),
]  # fmt: skip
IGNORED = [
    pytest.param(_event({"type": "reaction_added"}), JSON, id="reaction_added"),
    pytest.param(_event({"type": "app_home_opened", "user": "U1"}), JSON, id="app_home_opened"),
    pytest.param(_event({"type": "workflow_step_execute"}), JSON, id="workflow_step_execute"),
    pytest.param(_event({"type": "tokens_revoked", "tokens": {"oauth": ["U1"]}}), JSON,
                 id="user-tokens-revoked"),
    pytest.param(json.dumps({"type": "app_rate_limited", "team_id": "T1"}), JSON,
                 id="app_rate_limited"),
    pytest.param(interactive_body({"type": "interactive_message", "callback_id": "x",
                                   "actions": [{"name": "a", "value": "b"}], "user": USER}),
                 FORM, id="interactive_message"),
    pytest.param(interactive_body({"type": "workflow_step_edit", "callback_id": "x",
                                   "user": USER}), FORM, id="workflow_step_edit"),
    pytest.param(interactive_body({"type": "view_closed", "user": USER, "view": None}), FORM,
                 id="view_closed"),
    pytest.param(interactive_body({"type": "shortcut", "callback_id": "x", "user": USER}), FORM,
                 id="shortcut"),
    pytest.param(interactive_body({"type": "message_action", "callback_id": "x",
                                   "user": USER}), FORM, id="message_action"),
    pytest.param(interactive_body({"type": "block_suggestion", "action_id": "x",
                                   "user": USER}), FORM, id="block_suggestion"),
    pytest.param(interactive_body({"type": "dialog_submission", "user": USER}), FORM,
                 id="dialog_submission"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type"), REFUSED)
async def test_a_signed_payload_in_a_shape_no_slack_sends_is_a_400(
    server: RunningServer, body: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, text = await post(server, body, content_type)
    assert status == 400, text
    assert len(text) < 120, text
    no_traceback(caplog)
    assert server.slack.calls == []


@pytest.mark.parametrize(("body", "content_type"), IGNORED)
async def test_a_signed_request_of_a_kind_not_used_is_acknowledged(
    server: RunningServer, body: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, text = await post(server, body, content_type)
    assert (status, text) == (200, "")
    no_traceback(caplog)
    assert server.slack.calls == []
    with server.database.session() as session:
        assert session.scalars(select(RevokedWorkspace)).all() == []


# --- item 7: a workspace that uninstalled the app -------------------------------------------


def _dm_schedule(services: Services, clock: Clock) -> int:
    def create(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C200", "T1")
        spec = NewSchedule("succesvragen", "vrijdag 15:00", delivery="dm")
        return create_schedule(ctx, channel, spec, None).id

    services.runtime.clock = clock
    return services.runtime.call_sync(create)


SENDS = ("chat.postMessage", "conversations.open", "conversations.members")


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"bot": ["UBOT000001"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
async def test_an_uninstalled_workspace_gets_no_more_scheduled_sends(
    server: RunningServer, event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    services, slack = server.services, server.slack
    slack.members["C200"] = ["U1", "U2", "U3"]
    clock = Clock(MONDAY)
    _dm_schedule(services, clock)

    # Slack sends it, and (when the answer is slow) sends it again: counted once.
    body = _event(event, event_id="Ev0UNINSTALL", api_app_id="A1")
    for _ in range(2):
        status, text = await post(server, body, JSON)
        assert (status, text) == (200, "")
    with server.database.session() as session:
        (mark,) = session.scalars(select(RevokedWorkspace)).all()
        assert (mark.platform, mark.team_id, mark.reason) == ("slack", "T1", event["type"])
    stopped = [r for r in caplog.records if "scheduled sends there stop" in r.getMessage()]
    assert len(stopped) == 1

    # The schedule comes due, tick after tick: no call with the dead token, no log per tick.
    slack.fail.update({method: "token_revoked" for method in SENDS})
    scheduler = scheduler_for(services)
    caplog.clear()
    for minutes in (1, 2, 3):
        clock.set(FRIDAY_1500 + timedelta(minutes=minutes))
        stats = await scheduler.tick()
        assert stats["sent"] == 0 and stats["reminded"] == 0, stats
    assert [c.method for c in slack.calls if c.method in SENDS] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    # Reinstalled: at start-up the token works, the mark goes, the run is delivered.
    slack.fail.clear()
    assert services.slack_client is not None
    restarted = SlackAdapter(
        services.settings, services.runtime, services.texts, services.slack_client
    )
    await restarted.resume_if_reinstalled()
    with server.database.session() as session:
        assert session.scalars(select(RevokedWorkspace)).all() == []
    clock.set(FRIDAY_1500 + timedelta(minutes=4))
    stats = await scheduler.tick()
    assert stats["sent"] == 3, stats
    with server.database.session() as session:
        (run,) = session.scalars(select(PromptRun)).all()
        sent = session.scalars(select(PromptDelivery).where(PromptDelivery.run_id == run.id))
        assert sorted(d.user_id for d in sent) == ["U1", "U2", "U3"]
    assert len(slack.calls_to("chat.postMessage")) == 3


async def test_a_revocation_without_a_team_is_refused(server: RunningServer) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "app_uninstalled"}})
    status, _ = await post(server, body, JSON)
    assert status == 400
    with server.database.session() as session:
        assert session.scalars(select(RevokedWorkspace)).all() == []
