"""Scheduled reflection end to end: a facilitator plans it in Slack, the job functions run
with the clock controlled, people answer, the fourth gets a reminder, the run closes.
Also: restart in the middle of a fan-out (with 429s), grace, holidays, two replicas."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.services import Services, build_services
from handlers.casus.queries import casus_repo
from handlers.profiles.queries import profile_repo
from handlers.reflection.chat import NewSchedule, create_schedule
from storage.models import Answer, PromptDelivery, PromptRun, RunStatus, Schedule
from tests.conftest import DatabaseTarget, RunningServer, make_settings
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import (
    block_action,
    command_body,
    interactive_body,
    signed_headers,
    view_submission,
)
from tests.support.slack_standin import SlackStandIn

AMS = ZoneInfo("Europe/Amsterdam")
FORM = "application/x-www-form-urlencoded"
MONDAY = datetime(2026, 3, 23, 10, 0, tzinfo=AMS)  # the Friday after it is before the DST change
# Arithmetic on an Amsterdam-aware datetime is wall-clock arithmetic (it ignores the DST
# change), so elapsed time is always added to the UTC instant.
FRIDAY_1500 = datetime(2026, 3, 27, 15, 0, tzinfo=AMS).astimezone(UTC)


async def post(server: RunningServer, body: str) -> tuple[int, str]:
    headers = signed_headers(body, FORM)
    url = f"{server.url}/slack/events"
    async with server.http.post(url, data=body.encode(), headers=headers) as resp:
        return resp.status, await resp.text()


def rows(services: Services, model: type, *where: Any) -> list[Any]:
    with services.database.session() as session:
        return list(session.scalars(select(model).where(*where)))


async def test_weekly_wat_ging_goed_from_planning_to_summary(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY)
    services.runtime.clock = clock
    slack.members["C100"] = ["U1", "U2", "U3", "U4"]

    # A colleague who is not a facilitator is refused politely.
    status, text = await post(server, command_body("/reflectie", "", user="U1"))
    assert status == 200 and "Alleen begeleiders" in json.loads(text)["text"]

    # The facilitator sees the overview and adds a weekly "wat ging goed?".
    status, text = await post(server, command_body("/reflectie", "", user="UFAC01"))
    overview = json.loads(text)
    assert overview["response_type"] == "ephemeral"
    assert "reflectie_nieuw" in json.dumps(overview["blocks"])
    await post(server, interactive_body(block_action("reflectie_nieuw", "new", user="UFAC01")))
    form = (await slack.wait_for("views.open"))[-1]["view"]
    assert form["callback_id"] == "reflectie_schema"
    values = {
        "soort": "wat-ging-goed",
        "wanneer": "elke vrijdag om 15:00",
        "bezorging": "channel",
        "antwoorden": "public",
        "feestdagen": "skip",
        "venster": "48",
    }
    payload = view_submission(form, {k: v for k, v in values.items()}, user="UFAC01")
    for block_id, select_value in (("soort", "wat-ging-goed"), ("bezorging", "channel"),
                                   ("antwoorden", "public"), ("feestdagen", "skip")):  # fmt: skip
        element = next(b for b in form["blocks"] if b.get("block_id") == block_id)["element"]
        option = next(o for o in element["options"] if o["value"] == select_value)
        payload["view"]["state"]["values"][block_id] = {
            block_id: {"type": "static_select", "selected_option": option}
        }
    status, text = await post(server, interactive_body(payload))
    assert status == 200 and "errors" not in text, text
    (schedule,) = rows(services, Schedule)
    assert schedule.cron == "0 15 * * fri" and schedule.timezone == "Europe/Amsterdam"
    assert schedule.next_fire_at == FRIDAY_1500.astimezone(UTC)
    confirmation = await slack.wait_for("chat.postEphemeral")
    assert "elke vrijdag om 15:00" in json.dumps(confirmation, ensure_ascii=False)

    # Friday 15:00: the timer posts the prompt in the channel.
    scheduler = scheduler_for(services)
    clock.set(FRIDAY_1500 + timedelta(seconds=5))
    stats = await scheduler.tick()
    assert stats["fired"] == 1
    prompt = slack.calls_to("chat.postMessage")[-1]
    assert prompt["channel"] == "C100"
    assert "reflectie_antwoord" in json.dumps(prompt["blocks"])
    (run,) = rows(services, PromptRun)
    assert run.message_id == slack.calls_to("chat.postMessage")[-1].get("ts") or run.message_id
    deliveries = rows(services, PromptDelivery)
    assert sorted(d.user_id for d in deliveries) == ["U1", "U2", "U3", "U4"]
    # The next time is a week later at 15:00 local, although the clocks change in between.
    (schedule,) = rows(services, Schedule)
    assert schedule.next_fire_at == datetime(2026, 4, 3, 15, tzinfo=AMS).astimezone(UTC)
    assert await scheduler.tick() == {
        "leader": 1,
        "fired": 0,
        "sent": 0,
        "reminded": 0,
        "closed": 0,
    }

    # Three people answer; their answers are stored and shown in the prompt's thread.
    for user in ("U1", "U2", "U3"):
        before = len(slack.calls_to("views.open"))
        await post(
            server, interactive_body(block_action("reflectie_antwoord", str(run.id), user=user))
        )
        answer_view = (await slack.wait_for("views.open", before + 1))[-1]["view"]
        answer = {"goed": f"Gesprek met een gezin liep goed ({user})", "bijdrage": "Ik luisterde."}
        status, text = await post(
            server, interactive_body(view_submission(answer_view, answer, user=user))
        )
        assert status == 200 and "errors" not in text
    thread_posts = await slack.wait_for("chat.postMessage", 4)
    assert all(p.get("thread_ts") == run.message_id for p in thread_posts[-3:])
    assert len(rows(services, Answer)) == 6

    # At 80% of the 48-hour window the fourth person gets one gentle reminder, by DM. That is
    # Sunday morning: U4 works every day (someone on Monday to Friday is not reminded on a
    # day off; tests/bot/test_workdays.py).
    def every_day(ctx: Any) -> None:
        member = ctx.repos.members.ensure("slack", "U4")
        profile_repo(ctx).ensure(member).work_days = "1234567"

    services.runtime.call_sync(every_day)
    clock.set(FRIDAY_1500 + timedelta(hours=38.5))
    assert (await scheduler.tick())["reminded"] == 1
    assert [c["users"] for c in slack.calls_to("conversations.open")] == ["U4"]
    reminder = slack.calls_to("chat.postMessage")[-1]
    assert reminder["channel"] == "DU4" and "herinnering" in json.dumps(
        reminder, ensure_ascii=False
    )
    assert (await scheduler.tick())["reminded"] == 0

    # After the window the run closes with a short summary in the thread.
    clock.set(FRIDAY_1500 + timedelta(hours=48, minutes=1))
    assert (await scheduler.tick())["closed"] == 1
    summary = slack.calls_to("chat.postMessage")[-1]
    assert summary["thread_ts"] == run.message_id
    assert "3 van 4 deelnemers deelden iets" in json.dumps(summary, ensure_ascii=False)
    assert rows(services, PromptRun)[0].status == RunStatus.CLOSED

    # The fourth answers late: told it is closed, and the answer is kept, marked late.
    notices_before = len(slack.calls_to("chat.postEphemeral"))
    await post(server, interactive_body(block_action("reflectie_antwoord", str(run.id), user="U4")))
    late_view = (await slack.wait_for("views.open", 5))[-1]["view"]
    await post(
        server, interactive_body(view_submission(late_view, {"goed": "Toch nog iets"}, user="U4"))
    )
    notice = await slack.wait_for("chat.postEphemeral", notices_before + 1)
    assert "gesloten" in json.dumps(notice[-1], ensure_ascii=False)
    late = [a for a in rows(services, Answer) if a.text == "Toch nog iets"]
    assert len(late) == 1 and late[0].late is True


def _schedule(services: Services, clock: Clock, rule: str, **kw: Any) -> int:
    def create(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C200")
        return create_schedule(ctx, channel, NewSchedule("succesvragen", rule, **kw), None).id

    services.runtime.clock = clock
    return services.runtime.call_sync(create)


async def test_dm_fan_out_survives_a_restart_and_429s_without_duplicates(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    people = [f"U{n:03d}" for n in range(30)]
    slack_api.members["C200"] = people
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)
    first = build_services(settings)
    clock = Clock(MONDAY)
    schedule_id = _schedule(first, clock, "vrijdag 15:00", delivery="dm")
    clock.set(FRIDAY_1500 + timedelta(seconds=1))
    # The process "dies" after 12 DMs: the Web API stops answering successfully.
    slack_api.fail_after["chat.postMessage"] = (12, "internal_error")
    dying = scheduler_for(first)
    stats = await dying.tick()
    assert stats["sent"] == 12
    await dying.stop()
    first.close()

    # A new process on the same database, while Slack now rate-limits hard (429s).
    slack_api.fail_after.clear()
    slack_api.rate_limits["chat.postMessage"] = (6, 1.0)
    second = build_services(settings)
    second.runtime.clock = Clock(FRIDAY_1500 + timedelta(minutes=2))
    survivor = scheduler_for(second, concurrency=8)
    stats = await survivor.tick()
    assert stats["fired"] == 0  # the run was not created again
    assert stats["sent"] == 18
    assert slack_api.rate_limited > 0  # 429s happened and were waited out
    dm_targets = [c["channel"] for c in slack_api.calls_to("chat.postMessage")]
    assert sorted(dm_targets) == sorted(f"D{p}" for p in people)  # everyone exactly once
    statuses = {d.status for d in rows(second, PromptDelivery)}
    assert statuses == {"sent"}
    assert rows(second, Schedule, Schedule.id == schedule_id)[0].next_fire_at is not None
    await survivor.stop()
    second.close()


async def test_a_run_missed_while_down_is_sent_within_grace_and_skipped_after(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    services, slack = server.services, server.slack
    slack.members["C200"] = ["U1"]
    clock = Clock(MONDAY)
    _schedule(services, clock, "vrijdag 15:00")
    scheduler = scheduler_for(services, grace=timedelta(hours=1))
    clock.set(FRIDAY_1500 + timedelta(minutes=40))  # back up 40 minutes late
    assert (await scheduler.tick())["fired"] == 1
    assert len(slack.calls_to("chat.postMessage")) == 1

    caplog.set_level(logging.WARNING)
    clock.set(datetime(2026, 4, 3, 17, 30, tzinfo=AMS))  # the next Friday, 2.5 hours late
    assert (await scheduler.tick())["fired"] == 0
    prompts = [p for p in slack.calls_to("chat.postMessage") if not p.get("thread_ts")]
    assert len(prompts) == 1  # (the first run's summary went into its thread)
    assert "missed" in caplog.text
    (schedule,) = rows(services, Schedule)
    assert schedule.next_fire_at == datetime(2026, 4, 10, 15, tzinfo=AMS).astimezone(UTC)


async def test_holidays_and_pauses_skip_a_run(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    slack.members["C200"] = ["U1"]
    clock = Clock(datetime(2026, 4, 26, 12, tzinfo=AMS))
    _schedule(services, clock, "dagelijks 9:00")
    scheduler = scheduler_for(services)
    clock.set(datetime(2026, 4, 27, 9, 0, 10, tzinfo=AMS))  # Koningsdag
    assert (await scheduler.tick())["fired"] == 0
    assert slack.calls_to("chat.postMessage") == []
    clock.set(datetime(2026, 4, 28, 9, 0, 10, tzinfo=AMS))
    assert (await scheduler.tick())["fired"] == 1

    # A facilitator pauses the channel until after the weekend.
    def pause(ctx: Any) -> None:
        ctx.repos.channels.ensure("slack", "C200").paused_until = datetime(2026, 5, 3).date()

    services.runtime.call_sync(pause)
    clock.set(datetime(2026, 4, 29, 9, 0, 10, tzinfo=AMS))
    assert (await scheduler.tick())["fired"] == 0


async def test_snoozed_person_gets_no_dm(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    slack.members["C200"] = ["U1", "U2"]
    clock = Clock(MONDAY)
    _schedule(services, clock, "vrijdag 15:00", delivery="dm")
    _, text = await post(server, command_body("/reflectie", "afwezig 2026-04-30", user="U2"))
    assert "tot en met donderdag 30 april 2026" in json.loads(text)["text"]
    clock.set(FRIDAY_1500 + timedelta(seconds=1))
    await scheduler_for(services).tick()
    assert [c["channel"] for c in slack.calls_to("chat.postMessage")] == ["DU1"]
    skipped = [d for d in rows(services, PromptDelivery) if d.status == "skipped"]
    assert [d.user_id for d in skipped] == ["U2"]


async def test_bad_rule_gets_an_example_and_non_facilitators_cannot_manage(
    server: RunningServer,
) -> None:
    await post(server, interactive_body(block_action("reflectie_nieuw", "new", user="UFAC01")))
    form = (await server.slack.wait_for("views.open"))[-1]["view"]
    payload = view_submission(form, {"wanneer": "zodra het regent", "venster": "48"}, user="UFAC01")
    _, text = await post(server, interactive_body(payload))
    errors = json.loads(text)["errors"]
    assert "vrijdag 15:00" in errors["wanneer"]
    assert rows(server.services, Schedule) == []
    respond = server.slack.response_base + "x"
    await post(
        server,
        interactive_body(block_action("reflectie_nu", "1", user="U1", response_url=respond)),
    )
    for _ in range(200):
        if server.slack.responses:
            break
        await asyncio.sleep(0.01)
    assert "Alleen begeleiders" in server.slack.responses[-1][1]["text"]


async def test_a_tick_that_starts_after_stop_takes_no_leader_lock(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    """At shutdown a tick that was already queued runs after `stop`: it must not open a
    connection and take the advisory lock that nobody will close (CI caught the leak)."""
    if database_target.backend != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's; SQLite runs a single process")
    services = build_services(make_settings(database_target.url, SLACK_API_URL=slack_api.url))
    scheduler = scheduler_for(services)
    assert (await scheduler.tick())["leader"] == 1
    assert scheduler.leadership.connection is not None
    await scheduler.stop()
    assert scheduler.leadership.connection is None
    assert await scheduler.tick() == {"leader": 0}
    assert scheduler.leadership.connection is None
    # The lock is free for another replica.
    other = scheduler_for(services)
    assert (await other.tick())["leader"] == 1
    await other.stop()
    services.close()


async def test_two_replicas_post_once_and_the_other_takes_over(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    if database_target.backend != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite runs a single process")
    slack_api.members["C200"] = ["U1", "U2"]
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)
    a, b = build_services(settings), build_services(settings)
    clock = Clock(MONDAY)
    _schedule(a, clock, "vrijdag 15:00", skip_holidays=False)  # 3 April 2026 is Good Friday
    b.runtime.clock = clock
    one, two = scheduler_for(a), scheduler_for(b)
    clock.set(FRIDAY_1500 + timedelta(seconds=1))
    first, second = await asyncio.gather(one.tick(), two.tick())
    assert sorted([first["leader"], second["leader"]]) == [0, 1]
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert len(rows(a, PromptRun)) == 1

    # The leader dies (its connection drops); the other takes over at its next tick.
    leader, follower = (one, two) if first["leader"] else (two, one)
    assert leader.leadership.connection is not None
    leader.leadership.connection.invalidate()
    leader.leadership.connection = None
    clock.set(datetime(2026, 4, 3, 15, 0, 1, tzinfo=AMS))
    taken = await follower.tick()
    assert taken["leader"] == 1 and taken["fired"] == 1

    def prompts() -> int:
        return len([p for p in slack_api.calls_to("chat.postMessage") if not p.get("thread_ts")])

    assert prompts() == 2
    # Even if the old leader comes back at the same moment, the run is not posted twice.
    await leader.tick()
    assert prompts() == 2
    await one.stop()
    await two.stop()
    a.close()
    b.close()


async def test_leerkring_schedule_run_posts_through_the_timer_path(
    database_target: DatabaseTarget, slack_api: SlackStandIn, tmp_path: Any
) -> None:
    slack_api.members["C300"] = ["U1"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "DATABASE_URL": database_target.url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "x",
        "SLACK_API_URL": slack_api.url,
    }

    async def leerkring(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, out.decode(), err.decode()

    code, out, err = await leerkring(
        "schedule", "add", "--channel", "C300", "--kind", "leervraag", "--when", "werkdagen 16:00"
    )
    assert code == 0, err
    assert "op werkdagen om 16:00" in out
    code, out, err = await leerkring("schedule", "list")
    assert "#1" in out and "leervraag" in out
    code, out, err = await leerkring("schedule", "run", "1")
    assert code == 0, err
    assert "sent as run #1" in out
    posted = slack_api.calls_to("chat.postMessage")
    assert len(posted) == 1 and posted[0]["channel"] == "C300"
    assert "Leervraag" in json.dumps(posted[0], ensure_ascii=False)
    code, out, err = await leerkring("schedule", "add", "--channel", "C300", "--when", "ooit")
    assert code == 1 and "vrijdag 15:00" in err


def test_engine_counts(database_target: DatabaseTarget) -> None:
    """A sanity check of the data a run leaves behind, straight from SQL."""
    settings = make_settings(database_target.url)
    services = build_services(settings)
    clock = Clock(MONDAY)
    _schedule(services, clock, "vrijdag 15:00")
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Schedule)) == 1
    services.close()


Factory = Callable[[], Services]


async def test_casus_follow_up_asks_the_inbrenger_after_four_weeks(server: RunningServer) -> None:
    from storage.models import Casus, CasusStatus

    services, slack = server.services, server.slack

    def closed_casus(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C100")
        member = ctx.repos.members.ensure("slack", "U111")
        casus = casus_repo(ctx).add(
            channel=channel, inbrenger=member, title="Gezin met schulden", situation="s",
            obstacle=None, uncertainty=None, question="v", perspectives=[],
        )  # fmt: skip
        casus_repo(ctx).close(casus, "Rust eerst", "Morgen bel ik de moeder", at=MONDAY)
        return casus.id

    casus_id = services.runtime.call_sync(closed_casus)
    clock = Clock(MONDAY + timedelta(weeks=3))
    services.runtime.clock = clock
    scheduler = scheduler_for(services, followup_after=timedelta(weeks=4))
    await scheduler.tick()
    assert slack.calls_to("chat.postMessage") == []  # not yet
    clock.set(MONDAY + timedelta(weeks=4, hours=1))
    await scheduler.tick()
    await scheduler.tick()  # once only
    (dm,) = slack.calls_to("chat.postMessage")
    assert dm["channel"] == "DU111"
    text = json.dumps(dm, ensure_ascii=False)
    assert "Morgen bel ik de moeder" in text and "Gezin met schulden" in text
    (run,) = rows(services, PromptRun)
    assert run.kind == "casus-vervolg" and run.casus_id == casus_id
    assert rows(services, Casus)[0].status == CasusStatus.CLOSED


async def test_private_answers_go_to_facilitators_not_the_thread(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    slack.members["C200"] = ["U1"]
    clock = Clock(MONDAY)
    _schedule(services, clock, "vrijdag 15:00", private=True)
    clock.set(FRIDAY_1500 + timedelta(seconds=1))
    await scheduler_for(services).tick()
    (run,) = rows(services, PromptRun)
    await post(server, interactive_body(block_action("reflectie_antwoord", str(run.id), user="U1")))
    view = (await slack.wait_for("views.open"))[-1]["view"]
    answer = {"wat": "Ik vroeg door naar wat wel lukte", "gezien": "", "opnieuw": ""}
    await post(server, interactive_body(view_submission(view, answer, user="U1")))
    dms = await slack.wait_for("conversations.open")
    assert [c["users"] for c in dms] == ["UFAC01"]  # the facilitator from LEERKRING_FACILITATORS
    posts = await slack.wait_for("chat.postMessage", 2)
    assert posts[-1]["channel"] == "DUFAC01"
    assert not [p for p in posts if p.get("thread_ts") == run.message_id]
    assert "Ik vroeg door" in json.dumps(posts[-1], ensure_ascii=False)
