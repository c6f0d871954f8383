"""kill -9 in the middle of a reflection fan-out, with real processes.

``leerkring serve`` (scheduler on) sends a reflection prompt as a DM to each of 200 channel
members through the Slack stand-in, which answers slowly and rate limits. When the 100th DM
reaches the stand-in, the stand-in SIGKILLs the server before answering: Slack has that
message, the server never learns it. A new server on the same database must finish the
fan-out so that every member has the prompt exactly once, and the rows must say sent.

The 100th DM is the hard case: sent but not marked. The scheduler marks a recipient
"sending" before the call and tags the DM with message metadata carrying the delivery's key;
after a restart it looks for that key in the DM's history (conversations.history) before
sending again.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import build_services
from handlers.reflection.chat import NewSchedule, create_schedule
from storage.db import Database
from storage.models import PromptDelivery, PromptRun, Schedule
from tests.conftest import DatabaseTarget, make_settings
from tests.faults.processes import Fleet, Served, serve_env, wait_healthy, wait_until
from tests.support.slack_standin import Call, SlackStandIn

pytestmark = pytest.mark.slow

MEMBERS = [f"U{n:04d}" for n in range(200)]
KILL_AT = 100


def due_dm_schedule(url: str, channel: str) -> int:
    """A DM schedule in ``channel`` that is due a few seconds ago."""
    services = build_services(make_settings(url))
    try:

        def create(ctx: Any) -> int:
            place = ctx.repos.channels.ensure("slack", channel)
            spec = NewSchedule("succesvragen", "dagelijks 9:00", delivery="dm", skip_holidays=False)
            schedule = create_schedule(ctx, place, spec, None)
            schedule.next_fire_at = datetime.now(UTC) - timedelta(seconds=5)
            return int(schedule.id)

        return services.runtime.call_sync(create)
    finally:
        services.close()


def deliveries(url: str) -> list[PromptDelivery]:
    database = Database.from_url(url)
    try:
        with database.session() as session:
            return list(session.scalars(select(PromptDelivery).order_by(PromptDelivery.id)))
    finally:
        database.dispose()


def dm_counts(slack: SlackStandIn) -> Counter[str]:
    return Counter(str(c["channel"]) for c in slack.calls_to("chat.postMessage"))


async def test_sigkill_halfway_through_a_dm_fan_out_loses_and_doubles_nothing(
    database_target: DatabaseTarget, slack_api: SlackStandIn, fleet: Fleet
) -> None:
    url = database_target.url
    slack_api.members["C500"] = MEMBERS
    slack_api.delay["chat.postMessage"] = 0.03
    slack_api.rate_limits["chat.postMessage"] = (50, 1.0)  # 429 with Retry-After beyond that
    schedule_id = due_dm_schedule(url, "C500")
    env = serve_env(url, slack_api.url, LEERKRING_SCHEDULER="true", LEERKRING_TICK_SECONDS="1")
    victim: list[Served] = []
    killed: dict[str, Any] = {}

    def kill_on_the_hundredth_dm(call: Call) -> None:
        if call.method != "chat.postMessage" or killed:
            return
        if len(slack_api.calls_to("chat.postMessage")) == KILL_AT:
            # Slack has the message; the server dies before it hears back.
            os.kill(victim[0].process.pid, signal.SIGKILL)
            killed["channel"] = call.args["channel"]

    slack_api.on_call = kill_on_the_hundredth_dm
    first = fleet.start("first", env)
    victim.append(first)
    await wait_until(lambda: killed, 30, "the fan-out reached the 100th DM")
    first.process.wait(timeout=10)
    assert first.process.returncode == -signal.SIGKILL
    slack_api.on_call = None

    rows = deliveries(url)
    assert len(rows) == len(MEMBERS)
    marked = {r.user_id for r in rows if r.status == "sent"}
    received = dm_counts(slack_api)
    # DMs the server sent beside the 100th (4 at a time) may still reach Slack after the kill:
    # the stand-in reads requests already on the wire. None of them arrives twice.
    assert KILL_AT <= sum(received.values()) < KILL_AT + 4, sorted(received.items())[-5:]
    assert max(received.values()) == 1, [k for k, v in received.items() if v > 1]
    # The hard case really happened: at least the 100th DM arrived and was not marked sent.
    unmarked = {f"D{u}" for u in MEMBERS} & set(received) - {f"D{u}" for u in marked}
    assert killed["channel"] in unmarked

    second = fleet.start("second", env)
    await wait_healthy(second)
    # The DMs the killed server had claimed are taken over once their claim expires
    # (bot/outbox.LEASE, 20 s): a claim cannot tell a dead process from a slow one.
    await wait_until(
        lambda: all(r.status == "sent" for r in deliveries(url)), 60, "every row is sent"
    )
    received = dm_counts(slack_api)
    assert received == Counter({f"D{u}": 1 for u in MEMBERS}), {
        k: v for k, v in received.items() if v != 1
    }
    rows = deliveries(url)
    assert {r.user_id for r in rows} == set(MEMBERS)
    assert all(r.status == "sent" and r.message_id and r.sent_at for r in rows)
    # The interrupted DM was found in Slack, not sent again, and its row has Slack's ts.
    assert slack_api.calls_to("conversations.history")
    found = {str(m["ts"]) for m in slack_api.history[killed["channel"]]}
    hard = next(r for r in rows if f"D{r.user_id}" == killed["channel"])
    assert hard.message_id in found
    assert slack_api.rate_limited > 0  # the 429s were waited out, not dropped
    services = build_services(make_settings(url))
    try:
        with services.database.session() as session:
            assert len(list(session.scalars(select(PromptRun)))) == 1  # not fired again
            schedule = session.get(Schedule, schedule_id)
            assert schedule is not None and schedule.next_fire_at is not None
    finally:
        services.close()
    assert "Traceback" not in second.output(), second.output()[-3000:]
