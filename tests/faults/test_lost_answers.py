"""Slack posted the DM but its answer never reached the bot (a proxy's 504; the same as a
process dying before it recorded the answer). The next tick must find the DM by its metadata
key instead of sending it again: reflection prompts and speedsparren rounds, both databases."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import (
    Casus,
    CasusStatus,
    PostedMessage,
    PromptDelivery,
    PromptRun,
    SpeedsparMessage,
)
from tests.bot.slack.test_casus_flow import bring_in
from tests.bot.test_scheduler import FRIDAY_1500, MONDAY, _schedule
from tests.bot.test_speedsparren import MONDAY_10, START, give_profiles
from tests.bot.test_speedsparren import post as slack_post
from tests.faults.conftest import ServedApp
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import block_action, command_body, interactive_body


def dm_counts(served: ServedApp) -> Counter[str]:
    return Counter(
        str(c["channel"])
        for c in served.slack.calls_to("chat.postMessage")
        if str(c["channel"]).startswith("D")
    )


def rows(served: ServedApp, model: type) -> list[Any]:
    with served.database.session() as session:
        return list(session.scalars(select(model)))


async def test_reflection_dm_whose_answer_was_lost_is_not_sent_again(served: ServedApp) -> None:
    people = ["U1", "U2", "U3", "U4"]
    served.slack.members["C200"] = people
    clock = Clock(MONDAY)
    _schedule(served.services, clock, "vrijdag 15:00", delivery="dm")
    clock.set(FRIDAY_1500 + timedelta(seconds=1))
    served.slack.lose_answers["chat.postMessage"] = 2
    scheduler = scheduler_for(served.services, concurrency=1)

    first = await scheduler.tick()
    assert first["sent"] == 2  # two answers were lost: those rows stay "sending"
    assert sorted(d.status for d in rows(served, PromptDelivery)) == [
        "sending",
        "sending",
        "sent",
        "sent",
    ]
    clock.set(FRIDAY_1500 + timedelta(seconds=20))
    second = await scheduler.tick()
    assert second["sent"] == 2  # found in the DM's history, not posted again
    assert dm_counts(served) == Counter({f"D{p}": 1 for p in people})
    deliveries = rows(served, PromptDelivery)
    assert {d.status for d in deliveries} == {"sent"}
    found = {m["ts"] for ms in served.slack.history.values() for m in ms}
    assert {d.message_id for d in deliveries} <= found
    assert len(served.slack.calls_to("conversations.history")) == 2


async def test_speedspar_round_dm_whose_answer_was_lost_is_not_sent_again(
    served: ServedApp,
) -> None:
    people = {"UA": "Wijkteam", "UB": "GGD", "UC": "Schuldhulp"}
    services = served.services
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    give_profiles(services, people)
    _, _text = await slack_post(
        served, command_body("/speedsparren", "10:05 rondes 1 minuten 6", user="UFAC01")
    )
    (announcement,) = await served.slack.wait_for("chat.postMessage")
    session_id = int(
        next(b for b in announcement["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    )
    for user in people:
        await slack_post(
            served,
            interactive_body(block_action("speedspar_doe_mee", str(session_id), user=user)),
        )
    await served.slack.wait_for("chat.postEphemeral", len(people))
    await served.idle()

    served.slack.lose_answers["chat.postMessage"] = 1
    scheduler = scheduler_for(services, concurrency=1)
    clock.set(START + timedelta(seconds=1))
    await scheduler.tick()
    statuses = sorted(m.status for m in rows(served, SpeedsparMessage))
    assert statuses == ["sending", "sent", "sent"]
    clock.set(START + timedelta(seconds=20))
    await scheduler.tick()
    assert dm_counts(served) == Counter({f"D{p}": 1 for p in people})
    assert {m.status for m in rows(served, SpeedsparMessage)} == {"sent"}


async def test_a_dm_whose_connection_broke_is_neither_resent_by_the_client_nor_lost(
    served: ServedApp,
) -> None:
    """slack_sdk retried a broken connection, posting the same DM up to three times; now a
    post is not retried once sent, and the next tick finds it by its key."""
    people = ["U1", "U2", "U3"]
    served.slack.members["C200"] = people
    clock = Clock(MONDAY)
    _schedule(served.services, clock, "vrijdag 15:00", delivery="dm")
    clock.set(FRIDAY_1500 + timedelta(seconds=1))
    served.slack.drop_connections["chat.postMessage"] = 2
    scheduler = scheduler_for(served.services, concurrency=1)
    assert (await scheduler.tick())["sent"] == 1
    assert dm_counts(served) == Counter({f"D{p}": 1 for p in people})  # no client retries
    clock.set(FRIDAY_1500 + timedelta(seconds=20))
    assert (await scheduler.tick())["sent"] == 2  # found by key
    assert dm_counts(served) == Counter({f"D{p}": 1 for p in people})
    assert {d.status for d in rows(served, PromptDelivery)} == {"sent"}


@pytest.mark.parametrize("fault", ["connection broke", "proxy 504"])
async def test_a_casus_whose_post_answer_was_lost_is_recorded_not_dropped(
    served: ServedApp, fault: str
) -> None:
    """The casus reached the channel but Slack's answer did not reach the bot: the adapter
    finds the post by its key and records it, instead of telling the person it failed (they
    would post it again) or leaving a card that replies do not count under."""
    if fault == "proxy 504":
        served.slack.lose_answers["chat.postMessage"] = 1
    else:
        served.slack.drop_connections["chat.postMessage"] = 1
    casus = await bring_in(served)
    await served.idle()
    (post,) = served.slack.calls_to("chat.postMessage")
    with served.database.session() as session:
        stored = session.get(Casus, casus.id)
        assert stored is not None and stored.status == CasusStatus.OPEN
        assert stored.message_id == served.slack.history["C100"][0]["ts"]
        assert [r.object_id for r in session.scalars(select(PostedMessage))] == [casus.id]
    assert served.slack.calls_to("chat.postEphemeral") == []  # nobody was told it failed
    assert post["metadata"]["event_payload"]["key"] == f"leerkring:casus:{casus.id}"


async def test_a_channel_prompt_whose_answer_was_lost_is_not_posted_again(
    served: ServedApp,
) -> None:
    served.slack.members["C200"] = ["U1", "U2"]
    clock = Clock(MONDAY)
    _schedule(served.services, clock, "vrijdag 15:00")  # posted in the channel
    clock.set(FRIDAY_1500 + timedelta(seconds=1))
    served.slack.lose_answers["chat.postMessage"] = 1
    scheduler = scheduler_for(served.services)
    await scheduler.tick()
    (run,) = rows(served, PromptRun)
    assert run.message_id is None  # the bot does not know it was posted
    clock.set(FRIDAY_1500 + timedelta(seconds=20))
    await scheduler.tick()
    prompts = [c for c in served.slack.calls_to("chat.postMessage") if c["channel"] == "C200"]
    assert len(prompts) == 1
    (run,) = rows(served, PromptRun)
    assert run.message_id == served.slack.history["C200"][0]["ts"]
    assert sorted(d.user_id for d in rows(served, PromptDelivery)) == ["U1", "U2"]


async def test_a_speedspar_channel_notice_whose_answer_was_lost_is_not_posted_again(
    served: ServedApp,
) -> None:
    services = served.services
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    await slack_post(served, command_body("/speedsparren", "10:05", user="UFAC01"))
    await served.slack.wait_for("chat.postMessage")  # the announcement
    await served.idle()
    await slack_post(served, command_body("/speedsparren", "annuleer", user="UFAC01"))
    await served.idle()
    before = len(served.slack.calls_to("chat.postMessage"))
    served.slack.lose_answers["chat.postMessage"] = 1
    scheduler = scheduler_for(services)
    await scheduler.tick()
    clock.set(MONDAY_10 + timedelta(seconds=30))
    await scheduler.tick()
    await scheduler.tick()
    notices = served.slack.calls_to("chat.postMessage")[before:]
    assert len(notices) == 1, notices  # the cancellation, once
    assert notices[0]["channel"] == "C100"
