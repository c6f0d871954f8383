"""``leerkring schedule run`` beside a ticking ``leerkring serve`` on the same database, as
deployed: two real processes deliver the same run at the same time, through a Slack stand-in
that rate limits (429 with Retry-After) or answers slowly.

Every outbox row and the run's channel post are claimed by a conditional UPDATE before the
call (storage/claims.py), and a claim in flight is kept fresh (bot/outbox.py), so whichever
process claims a row sends it and the other skips it: every member gets exactly one DM, and
a channel prompt is posted once."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import build_services
from handlers.reflection.chat import NewSchedule, create_schedule
from handlers.speedsparren import planning as speedspar_planning
from storage.db import Database
from storage.models import PromptDelivery, PromptRun, SpeedsparSession
from tests.conftest import DatabaseTarget, make_settings
from tests.faults.processes import Fleet, serve_env, wait_healthy, wait_until
from tests.support.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

MEMBERS = [f"U{n:03d}" for n in range(60)]
CHANNEL = "C700"


def schedule_in(url: str, delivery: str) -> int:
    """A schedule that is not due: only `schedule run` fires it."""
    services = build_services(make_settings(url))
    try:

        def create(ctx: Any) -> int:
            place = ctx.repos.channels.ensure("slack", CHANNEL)
            if delivery == "speedspar":
                creator = ctx.repos.members.ensure("slack", "UFAC01")
                schedule = speedspar_planning.create_schedule(
                    ctx, place, speedspar_planning.NewSchedule("dagelijks 9:00"), creator
                )
            else:
                spec = NewSchedule(
                    "succesvragen", "dagelijks 9:00", delivery=delivery, skip_holidays=False
                )
                schedule = create_schedule(ctx, place, spec, None)
            schedule.next_fire_at = datetime.now(UTC) + timedelta(days=1)
            return int(schedule.id)

        return services.runtime.call_sync(create)
    finally:
        services.close()


def stored(url: str) -> tuple[list[PromptRun], list[PromptDelivery]]:
    database = Database.from_url(url)
    try:
        with database.session() as session:
            runs = list(session.scalars(select(PromptRun)))
            rows = list(session.scalars(select(PromptDelivery)))
            session.expunge_all()
            return runs, rows
    finally:
        database.dispose()


def dms(slack: SlackStandIn) -> Counter[str]:
    return Counter(
        str(c["channel"])
        for c in slack.calls_to("chat.postMessage")
        if str(c["channel"]).startswith("D")
    )


def channel_posts(slack: SlackStandIn) -> int:
    return len(
        [
            c
            for c in slack.calls_to("chat.postMessage")
            if c["channel"] == CHANNEL and not c.get("thread_ts")
        ]
    )


def metadata(call: dict[str, Any]) -> dict[str, Any]:
    raw = call["metadata"]
    return dict(json.loads(raw) if isinstance(raw, str) else raw)


async def schedule_run(env: dict[str, str], schedule_id: int, cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "schedule", "run", str(schedule_id),
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(errors="replace")


@pytest.mark.parametrize(
    ("delivery", "slack"),
    [("dm", "rate-limited"), ("dm", "slow"), ("channel", "slow"), ("speedspar", "slow")],
)
async def test_schedule_run_beside_a_ticking_server_sends_everything_once(
    database_target: DatabaseTarget,
    slack_api: SlackStandIn,
    fleet: Fleet,
    tmp_path: Path,
    delivery: str,
    slack: str,
) -> None:
    url = database_target.url
    slack_api.members[CHANNEL] = MEMBERS
    if slack == "rate-limited":
        slack_api.delay["chat.postMessage"] = 0.02
        slack_api.rate_limits["chat.postMessage"] = (15, 1.0)  # 429 with Retry-After 1-2 s
    else:
        slack_api.delay["chat.postMessage"] = 0.4 if delivery == "dm" else 1.5
        slack_api.delay["conversations.history"] = 0.2
    schedule_id = schedule_in(url, delivery)
    env = serve_env(url, slack_api.url, LEERKRING_SCHEDULER="true", LEERKRING_TICK_SECONDS="0.5")
    server = fleet.start("serve", env)
    await wait_healthy(server)
    await asyncio.sleep(1.0)  # the scheduler is ticking

    code, out = await schedule_run(env, schedule_id, tmp_path)
    assert code == 0, out
    if delivery == "speedspar":
        assert "speedsparren announced as session #1" in out
        await asyncio.sleep(2.0)  # a few more ticks of the server
        assert channel_posts(slack_api) == 1
        database = Database.from_url(url)
        try:
            with database.session() as session:
                (announced,) = session.scalars(select(SpeedsparSession))
                assert announced.post_pending is None and announced.message_id is not None
        finally:
            database.dispose()
        assert "Traceback" not in server.output(), server.output()[-3000:]
        return
    assert "sent as run #1" in out

    if delivery == "dm":
        await wait_until(
            lambda: all(r.status == "sent" for r in stored(url)[1]) and len(stored(url)[1]) == 60,
            60,
            "every DM row is sent",
            step=0.2,
        )
    else:
        await wait_until(
            lambda: stored(url)[0][0].recipients_listed, 30, "recipients listed", step=0.2
        )
    await asyncio.sleep(2.0)  # a few more ticks of the server: nothing more goes out

    runs, rows = stored(url)
    assert len(runs) == 1
    if delivery == "dm":
        received = dms(slack_api)
        assert received == Counter({f"D{m}": 1 for m in MEMBERS}), {
            k: v for k, v in received.items() if v != 1
        }
        assert {r.user_id for r in rows} == set(MEMBERS)
        assert all(r.status == "sent" and r.message_id and r.claimed_at is None for r in rows)
        keys = Counter(
            str(metadata(c)["event_payload"]["key"])
            for c in slack_api.calls_to("chat.postMessage")
            if c.get("metadata")
        )
        assert max(keys.values()) == 1  # no outbox key sent twice
        if slack == "rate-limited":
            assert slack_api.rate_limited > 0
    else:
        assert channel_posts(slack_api) == 1
        assert runs[0].message_id is not None
        assert dms(slack_api) == Counter()
    assert "Traceback" not in server.output(), server.output()[-3000:]
    assert "Traceback" not in out, out[-3000:]
