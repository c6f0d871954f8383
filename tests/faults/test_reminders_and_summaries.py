"""Reminders and closing summaries go out at least once and never twice: each is an outbox
row written before sending, marked "sending" before the call and marked after. A transient
failure is sent at the next tick; a message whose answer was lost (Slack posted it, a proxy
answered 504) is found by its metadata key and not sent again. Both databases, the real
server and scheduler, the clock controlled, the Web API stand-in."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from handlers.profiles.queries import profile_repo
from storage.models import PromptDelivery, PromptRun, RunStatus
from tests.bot.test_scheduler import FRIDAY_1500, MONDAY, _schedule
from tests.faults.conftest import ServedApp
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401

PEOPLE = ["U1", "U2", "U3"]
REMIND = FRIDAY_1500 + timedelta(hours=38.5)  # 80% of the 48-hour window
CLOSE = FRIDAY_1500 + timedelta(hours=48, minutes=1)


def rows(served: ServedApp, model: Any) -> list[Any]:
    with served.database.session() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def at_slack(served: ServedApp, channel: str) -> list[dict[str, Any]]:
    """What Slack has in a channel (a call refused with an error left nothing there)."""
    return served.slack.history.get(channel, [])


def reminders_at_slack(served: ServedApp) -> Counter[str]:
    return Counter(
        channel
        for channel, messages in served.slack.history.items()
        for m in messages
        if channel.startswith("D") and "leerkring:reminder:" in str(m.get("metadata"))
    )


def work_every_day(served: ServedApp) -> None:
    """The reminder moment is Sunday morning: these people work every day, so it is due for
    them (someone on Monday to Friday would get it on Monday; tests/bot/test_workdays.py)."""

    def step(ctx: Any) -> None:
        for user in PEOPLE:
            member = ctx.repos.members.ensure("slack", user)
            profile_repo(ctx).ensure(member).work_days = "1234567"

    served.services.runtime.call_sync(step)


async def prompt_in_channel(served: ServedApp) -> tuple[Clock, Any]:
    """A channel prompt to three people; nobody answers."""
    served.slack.members["C200"] = PEOPLE
    work_every_day(served)
    clock = Clock(MONDAY)
    _schedule(served.services, clock, "vrijdag 15:00")
    scheduler = scheduler_for(served.services)
    clock.set(FRIDAY_1500 + timedelta(seconds=5))
    assert (await scheduler.tick())["fired"] == 1
    return clock, scheduler


async def test_a_reminder_that_failed_for_a_moment_goes_out_at_the_next_tick_once(
    served: ServedApp,
) -> None:
    clock, scheduler = await prompt_in_channel(served)
    clock.set(REMIND)
    served.slack.fail["chat.postMessage"] = "internal_error"
    assert (await scheduler.tick())["reminded"] == 0
    assert reminders_at_slack(served) == Counter()
    assert {d.reminder_status for d in rows(served, PromptDelivery)} == {"sending"}
    assert rows(served, PromptRun)[0].reminded is True

    del served.slack.fail["chat.postMessage"]
    clock.set(REMIND + timedelta(seconds=15))
    assert (await scheduler.tick())["reminded"] == len(PEOPLE)
    assert (await scheduler.tick())["reminded"] == 0
    assert reminders_at_slack(served) == Counter({f"D{p}": 1 for p in PEOPLE})
    deliveries = rows(served, PromptDelivery)
    assert {d.reminder_status for d in deliveries} == {"sent"}
    assert all(d.reminded_at == REMIND + timedelta(seconds=15) for d in deliveries)


async def test_a_reminder_whose_answer_was_lost_is_not_sent_twice(served: ServedApp) -> None:
    clock, scheduler = await prompt_in_channel(served)
    clock.set(REMIND)
    served.slack.lose_answers["chat.postMessage"] = 2
    assert (await scheduler.tick())["reminded"] == 1
    assert sorted(str(d.reminder_status) for d in rows(served, PromptDelivery)) == [
        "sending",
        "sending",
        "sent",
    ]
    clock.set(REMIND + timedelta(seconds=15))
    assert (await scheduler.tick())["reminded"] == 2  # found by key in the DM's history
    assert reminders_at_slack(served) == Counter({f"D{p}": 1 for p in PEOPLE})
    posted = [c for c in served.slack.calls_to("chat.postMessage") if c["channel"] != "C200"]
    assert len(posted) == len(PEOPLE)
    assert {d.reminder_status for d in rows(served, PromptDelivery)} == {"sent"}


async def test_reminders_not_out_when_the_run_closes_are_dropped(served: ServedApp) -> None:
    clock, scheduler = await prompt_in_channel(served)
    clock.set(REMIND)
    served.slack.fail["chat.postMessage"] = "ratelimited"
    await scheduler.tick()
    assert {d.reminder_status for d in rows(served, PromptDelivery)} == {"pending"}
    del served.slack.fail["chat.postMessage"]
    clock.set(CLOSE)
    assert (await scheduler.tick())["closed"] == 1
    assert reminders_at_slack(served) == Counter()
    assert {d.reminder_status for d in rows(served, PromptDelivery)} == {"expired"}


async def test_a_summary_that_failed_for_a_moment_is_posted_at_the_next_tick_once(
    served: ServedApp,
) -> None:
    clock, scheduler = await prompt_in_channel(served)
    (run,) = rows(served, PromptRun)
    clock.set(CLOSE)
    served.slack.fail["chat.postMessage"] = "internal_error"
    assert (await scheduler.tick())["closed"] == 1
    (closed,) = rows(served, PromptRun)
    assert closed.status == RunStatus.CLOSED and closed.summary_status == "posting"
    assert len(at_slack(served, "C200")) == 1  # only the prompt

    del served.slack.fail["chat.postMessage"]
    clock.set(CLOSE + timedelta(seconds=15))
    await scheduler.tick()
    await scheduler.tick()
    summaries = [m for m in at_slack(served, "C200") if m.get("thread_ts") == run.message_id]
    assert len(summaries) == 1
    assert "0 van 3 deelnemers deelden iets" in summaries[0]["text"]
    assert rows(served, PromptRun)[0].summary_status == "posted"


async def test_a_summary_whose_answer_was_lost_is_not_posted_twice(served: ServedApp) -> None:
    clock, scheduler = await prompt_in_channel(served)
    (run,) = rows(served, PromptRun)
    clock.set(CLOSE)
    served.slack.lose_answers["chat.postMessage"] = 1
    await scheduler.tick()
    assert rows(served, PromptRun)[0].summary_status == "posting"
    clock.set(CLOSE + timedelta(seconds=15))
    await scheduler.tick()
    await scheduler.tick()
    in_thread = [
        c for c in served.slack.calls_to("chat.postMessage") if c.get("thread_ts") == run.message_id
    ]
    assert len(in_thread) == 1
    assert rows(served, PromptRun)[0].summary_status == "posted"
    assert served.slack.calls_to("conversations.replies")  # it was looked for, by its key
