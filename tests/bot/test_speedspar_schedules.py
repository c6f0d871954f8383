"""Speedsparren on a schedule: a facilitator plans it in Slack (the /reflectie overview and
the planning form), the schedule fires with the clock controlled and starts a session through
the path of /speedsparren (announcement with "Doe mee", sign-up, rounds, summary). Also: a
firing while a session is still going starts no second one, holidays and a late firing, and
the command line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.services import Services
from handlers.speedsparren import planning as speedspar_planning
from storage.models import Member, Schedule, SpeedsparSeat, SpeedsparSession, SpeedsparStatus
from tests.conftest import DatabaseTarget, RunningServer
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
MONDAY = datetime(2026, 3, 23, 10, 0, tzinfo=AMS).astimezone(UTC)
FRIDAY_1500 = datetime(2026, 3, 27, 15, 0, tzinfo=AMS).astimezone(UTC)
PEOPLE = ("U1", "U2", "U3")


async def post(server: RunningServer, body: str) -> tuple[int, str]:
    headers = signed_headers(body, FORM)
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=headers
    ) as resp:
        return resp.status, await resp.text()


def rows(services: Services, model: type, *where: Any) -> list[Any]:
    with services.database.session() as session:
        found = list(session.scalars(select(model).where(*where)))
        session.expunge_all()
        return found


def dms(slack: SlackStandIn, since: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Direct messages per person (the stand-in's DM channel for U1 is DU1)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for call in slack.calls_to("chat.postMessage")[since:]:
        if str(call["channel"]).startswith("D"):
            out.setdefault(call["channel"][1:], []).append(call)
    return out


def in_channel(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [c for c in slack.calls_to("chat.postMessage") if c["channel"] == channel]


def text_of(call: dict[str, Any]) -> str:
    return json.dumps(call, ensure_ascii=False)


async def open_plan_form(server: RunningServer) -> dict[str, Any]:
    before = len(server.slack.calls_to("views.open"))
    await post(server, interactive_body(block_action("speedspar_plannen", "new", user="UFAC01")))
    view: dict[str, Any] = (await server.slack.wait_for("views.open", before + 1))[-1]["view"]
    assert view["callback_id"] == "speedspar_schema"
    return view


async def submit_plan(
    server: RunningServer, view: dict[str, Any], values: dict[str, str], user: str = "UFAC01"
) -> tuple[int, str]:
    return await post(server, interactive_body(view_submission(view, values, user=user)))


async def join(server: RunningServer, session_id: int, users: tuple[str, ...]) -> None:
    before = len(server.slack.calls_to("chat.postEphemeral"))
    for user in users:
        await post(
            server, interactive_body(block_action("speedspar_doe_mee", str(session_id), user=user))
        )
    notices = await server.slack.wait_for("chat.postEphemeral", before + len(users))
    assert all("Je doet mee!" in text_of(n) for n in notices[before:])


def plan_directly(services: Services, rule: str, channel: str = "C100", **kw: Any) -> int:
    """A second schedule for the same channel, made as the facilitator would."""

    def create(ctx: Any) -> int:
        place = ctx.repos.channels.ensure("slack", channel)
        creator = ctx.repos.members.ensure("slack", "UFAC01")
        spec = speedspar_planning.NewSchedule(rule, **kw)
        return speedspar_planning.create_schedule(ctx, place, spec, creator).id

    return services.runtime.call_sync(create)


async def test_a_planned_session_is_announced_filled_and_run_by_the_timer(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY)
    services.runtime.clock = clock

    # Only facilitators plan speedsparren: the button, the command and the form itself.
    _, text = await post(server, command_body("/speedsparren", "plan", user="U1"))
    assert "Alleen begeleiders" in json.loads(text)["text"]
    before = len(slack.calls_to("chat.postEphemeral"))
    await post(server, interactive_body(block_action("speedspar_plannen", "new", user="U1")))
    refused = await slack.wait_for("chat.postEphemeral", before + 1)
    assert "Alleen begeleiders" in text_of(refused[-1])
    assert slack.calls_to("views.open") == []

    # The facilitator finds "Speedsparren plannen" in the /reflectie overview.
    _, text = await post(server, command_body("/reflectie", "", user="UFAC01"))
    assert "speedspar_plannen" in json.dumps(json.loads(text)["blocks"])
    view = await open_plan_form(server)
    labels = {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}
    assert set(labels) == {
        "wanneer", "aanmelden", "rondes", "minuten", "vragen", "begeleider", "feestdagen"
    }  # fmt: skip
    assert labels["aanmelden"]["element"]["initial_value"] == "10"

    # A non-facilitator submitting the form (a stale modal) stores nothing.
    good = {
        "wanneer": "vrijdag 15:00",
        "aanmelden": "10",
        "rondes": "2",
        "minuten": "5",
        "vragen": "wat-ging-goed",
        "begeleider": "ja",
        "feestdagen": "skip",
    }
    await submit_plan(server, view, good, user="U1")
    assert rows(services, Schedule) == []

    # Bad input: a friendly Dutch message under each field, nothing stored.
    bad = {**good, "wanneer": "zodra het regent", "rondes": "12", "minuten": "veel",
           "aanmelden": "0"}  # fmt: skip
    status, text = await submit_plan(server, view, bad)
    errors = json.loads(text)["errors"]
    assert "vrijdag 15:00" in errors["wanneer"]
    assert "van 1 tot en met 8" in errors["rondes"]
    assert "van 2 tot en met 30" in errors["minuten"]
    assert "van 2 tot en met 240" in errors["aanmelden"]
    assert rows(services, Schedule) == []

    # A good plan: every Friday at 15:00 the announcement, the first round ten minutes later.
    before = len(slack.calls_to("chat.postEphemeral"))
    status, text = await submit_plan(server, view, good)
    assert status == 200 and "errors" not in text, text
    (schedule,) = rows(services, Schedule)
    (facilitator,) = rows(services, Member, Member.platform_user_id == "UFAC01")
    assert (schedule.kind, schedule.cron, schedule.timezone) == (
        "speedsparren", "0 15 * * fri", "Europe/Amsterdam"
    )  # fmt: skip
    assert (schedule.rounds, schedule.minutes, schedule.deck, schedule.signup_minutes) == (
        2, 5, "wat-ging-goed", 10
    )  # fmt: skip
    assert schedule.facilitator_fills and schedule.created_by_id == facilitator.id
    assert schedule.next_fire_at == FRIDAY_1500
    confirmation = text_of((await slack.wait_for("chat.postEphemeral", before + 1))[-1])
    assert "elke vrijdag om 15:00" in confirmation
    assert "2 rondes van 5 minuten, eerste ronde 10 minuten na de aankondiging" in confirmation

    # The overview and /speedsparren show what is planned.
    _, text = await post(server, command_body("/reflectie", "", user="UFAC01"))
    assert "Speedsparren" in text and "2 rondes van 5 minuten" in text
    assert "Nu starten" in text
    _, text = await post(server, command_body("/speedsparren", "", user="UFAC01"))
    assert "Gepland: speedsparren elke vrijdag om 15:00" in json.loads(text)["text"]

    # Friday 15:00: the timer announces the session in the channel.
    scheduler = scheduler_for(services)
    assert (await scheduler.tick())["fired"] == 0  # Monday: nothing yet
    clock.set(FRIDAY_1500 + timedelta(seconds=5))
    assert (await scheduler.tick())["fired"] == 1
    (announcement,) = in_channel(slack, "C100")
    assert "speedspar_doe_mee" in json.dumps(announcement["blocks"])
    assert "Speedsparren om 15:10" in text_of(announcement)
    assert "2 rondes van 5 minuten" in text_of(announcement)
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.OPEN
    assert session.schedule_id == schedule.id
    assert session.fire_key == f"s{schedule.id}:{FRIDAY_1500.isoformat()}"
    assert session.starts_at == FRIDAY_1500 + timedelta(minutes=10)
    assert (session.rounds, session.minutes, session.deck) == (2, 5, "wat-ging-goed")
    assert session.facilitator_fills and session.created_by_id == facilitator.id
    assert session.message_id == "1700000000.000001"  # the announcement's ts
    assert session.post_pending is None
    (schedule,) = rows(services, Schedule)
    assert schedule.next_fire_at == datetime(2026, 4, 3, 15, tzinfo=AMS).astimezone(UTC)
    assert (await scheduler.tick())["fired"] == 0
    assert len(in_channel(slack, "C100")) == 1  # announced once

    # Three people click "Doe mee"; at 15:10 round 1 starts, the facilitator fills the seat.
    await join(server, session.id, PEOPLE)
    clock.set(FRIDAY_1500 + timedelta(minutes=10, seconds=1))
    await scheduler.tick()
    round1 = dms(slack)
    assert sorted(round1) == ["U1", "U2", "U3", "UFAC01"]
    assert all(len(m) == 1 for m in round1.values())
    assert "ronde 1 van 2" in text_of(round1["U1"][0])
    assert "Wat ging goed?" in text_of(round1["U1"][0])  # the schedule's question deck
    seats = rows(services, SpeedsparSeat, SpeedsparSeat.round == 1)
    assert len(seats) == 4 and len({s.group_no for s in seats}) == 2  # two pairs, no trio

    # A schedule firing while this session runs starts no second one; the planner is told.
    caplog.set_level(logging.WARNING)
    plan_directly(services, "vrijdag 15:12")
    clock.set(FRIDAY_1500 + timedelta(minutes=12, seconds=1))
    sent_before = len(slack.calls_to("chat.postMessage"))
    assert (await scheduler.tick())["fired"] == 0
    assert len(rows(services, SpeedsparSession)) == 1
    told = dms(slack, sent_before)
    assert list(told) == ["UFAC01"]
    assert "niet gestart" in text_of(told["UFAC01"][0])
    assert f"speedsparsessie #{session.id}" in text_of(told["UFAC01"][0])
    assert "no second session" in caplog.text

    # "Nu versturen" on the schedule during the session: refused in words, no new session.
    respond = slack.response_base + "nu"
    await post(
        server,
        interactive_body(
            block_action("reflectie_nu", str(schedule.id), user="UFAC01", response_url=respond)
        ),
    )
    for _ in range(200):
        if slack.responses:
            break
        await asyncio.sleep(0.01)
    assert "Er loopt al een speedsparsessie" in slack.responses[-1][1]["text"]
    assert len(rows(services, SpeedsparSession)) == 1

    # Round 2, the takeaway question, and the summary in the channel.
    before = len(slack.calls_to("chat.postMessage"))
    clock.set(FRIDAY_1500 + timedelta(minutes=15, seconds=1))
    await scheduler.tick()
    assert sorted(dms(slack, before)) == ["U1", "U2", "U3", "UFAC01"]
    clock.set(FRIDAY_1500 + timedelta(minutes=20, seconds=1))
    await scheduler.tick()
    clock.set(FRIDAY_1500 + timedelta(minutes=25, seconds=2))
    await scheduler.tick()
    summary = in_channel(slack, "C100")[-1]
    assert "Speedsparren afgerond" in text_of(summary) and "4 deelnemers, 2 rondes" in text_of(
        summary
    )
    assert rows(services, SpeedsparSession)[0].status == SpeedsparStatus.CLOSED


async def test_holidays_are_skipped_and_a_late_firing_keeps_a_short_sign_up(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY)
    services.runtime.clock = clock
    plan_directly(services, "vrijdag 15:00", channel="C200", signup_minutes=10)
    scheduler = scheduler_for(services, grace=timedelta(hours=1))

    # Back up 25 minutes late: the planned start has passed, so sign-up gets two minutes.
    clock.set(FRIDAY_1500 + timedelta(minutes=25))
    assert (await scheduler.tick())["fired"] == 1
    (session,) = rows(services, SpeedsparSession)
    assert session.starts_at == FRIDAY_1500 + timedelta(minutes=27)
    assert "Speedsparren om 15:27" in text_of(in_channel(slack, "C200")[0])

    # Nobody joins: cancelled at the start, in words.
    clock.set(FRIDAY_1500 + timedelta(minutes=27, seconds=1))
    await scheduler.tick()
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.CANCELLED and session.cancel_reason == "too_few"

    # Good Friday (3 April 2026) is a Dutch public holiday: skipped, next week is planned.
    clock.set(datetime(2026, 4, 3, 15, 0, 5, tzinfo=AMS))
    assert (await scheduler.tick())["fired"] == 0
    assert len(rows(services, SpeedsparSession)) == 1
    (schedule,) = rows(services, Schedule)
    assert schedule.next_fire_at == datetime(2026, 4, 10, 15, tzinfo=AMS).astimezone(UTC)


async def test_an_announcement_the_channel_refuses_leaves_no_open_session(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY)
    services.runtime.clock = clock
    plan_directly(services, "vrijdag 15:00", channel="C200")
    slack.fail_after["chat.postMessage"] = (0, "not_in_channel")
    clock.set(FRIDAY_1500 + timedelta(seconds=5))
    await scheduler_for(services).tick()
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.CANCELLED and session.cancel_reason == "not_posted"
    assert session.post_pending is None


async def test_leerkring_schedule_add_and_run_start_speedsparren(
    server: RunningServer, database_target: DatabaseTarget, tmp_path: Any
) -> None:
    services, slack = server.services, server.slack
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "DATABASE_URL": database_target.url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "x",
        "SLACK_API_URL": slack.url,
    }

    async def leerkring(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode or 0, out.decode(), err.decode()

    add = ("schedule", "add", "--channel", "C300", "--when", "vrijdag 15:00")
    code, _, err = await leerkring(*add, "--kind", "leervraag", "--rounds", "3")
    assert code == 1 and "--rounds: only with --kind speedsparren" in err
    code, _, err = await leerkring(
        *add, "--kind", "speedsparren", "--rounds", "9", "--minutes", "1"
    )
    assert code == 1
    assert "van 1 tot en met 8" in err and "van 2 tot en met 30" in err
    code, _, err = await leerkring(*add, "--kind", "speedsparren", "--fill-odd-seat")
    assert code == 1 and "--facilitator" in err
    assert rows(services, Schedule) == []

    code, out, err = await leerkring(
        *add, "--kind", "speedsparren", "--rounds", "2", "--minutes", "4",
        "--signup-minutes", "15", "--facilitator", "UFAC01", "--fill-odd-seat",
    )  # fmt: skip
    assert code == 0, err
    assert "speedsparren (2 rondes van 4 minuten, eerste ronde 15 minuten na" in out
    assert "elke vrijdag om 15:00" in out
    code, out, _ = await leerkring("schedule", "list")
    assert "#1" in out and "speedsparren" in out

    # `run` starts it now, through the timer's path: the announcement is in the channel.
    code, out, err = await leerkring("schedule", "run", "1")
    assert code == 0, err
    assert "speedsparren announced as session #1" in out
    (announcement,) = in_channel(slack, "C300")
    assert "speedspar_doe_mee" in json.dumps(announcement["blocks"])
    (session,) = rows(services, SpeedsparSession)
    assert session.schedule_id == 1 and session.message_id == "1700000000.000001"
    assert (session.rounds, session.minutes, session.facilitator_fills) == (2, 4, True)
    assert timedelta(minutes=14) < session.starts_at - session.created_at <= timedelta(minutes=15)

    # Again while it is open: no second session.
    code, out, err = await leerkring("schedule", "run", "1")
    assert code == 0, err
    assert "not started; a speedspar session is still going" in out
    assert len(rows(services, SpeedsparSession)) == 1
    assert len(in_channel(slack, "C300")) == 1

    # The running server takes it from there: three sign up, the facilitator named on the
    # command line fills the odd seat, and round 1 starts with two pairs.
    clock = Clock(session.created_at + timedelta(minutes=1))
    services.runtime.clock = clock
    await join(server, session.id, ("U1", "U2", "U3"))
    clock.set(session.starts_at + timedelta(seconds=1))
    await scheduler_for(services).tick()
    assert sorted(dms(slack)) == ["U1", "U2", "U3", "UFAC01"]
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.RUNNING and session.current_round == 1

    # Deleting the schedule leaves the running session alone.
    code, out, err = await leerkring("schedule", "delete", "1")
    assert code == 0, err
    assert rows(services, Schedule) == []
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.RUNNING and session.schedule_id is None


async def test_nu_starten_announces_at_once_with_the_schedules_sign_up_time(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY)
    services.runtime.clock = clock
    schedule_id = plan_directly(services, "vrijdag 15:00", signup_minutes=20)
    respond = slack.response_base + "start"
    await post(
        server,
        interactive_body(
            block_action("reflectie_nu", str(schedule_id), user="UFAC01", response_url=respond)
        ),
    )
    for _ in range(200):
        if slack.responses:
            break
        await asyncio.sleep(0.01)
    assert "de eerste ronde begint om 10:20" in slack.responses[-1][1]["text"]
    (session,) = rows(services, SpeedsparSession)
    assert session.schedule_id == schedule_id and session.starts_at == MONDAY + timedelta(
        minutes=20
    )
    assert session.post_pending == "announcement" and in_channel(slack, "C100") == []
    await scheduler_for(services).tick()
    (announcement,) = in_channel(slack, "C100")
    assert "Speedsparren om 10:20" in text_of(announcement)
    (schedule,) = rows(services, Schedule)
    assert schedule.next_fire_at == FRIDAY_1500  # the weekly time is unchanged
