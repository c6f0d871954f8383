"""DM channel ids are kept in the database: conversations.open is Tier 3 (about 50 a minute),
so a restarted process (or `leerkring schedule run`) must not open every DM again. A stored id
that Slack no longer knows is replaced once. Files for one person (/oogsten, /mijn-gegevens) go
through the same stored channel. Real services and the Web API stand-in."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.services import Services, build_services
from handlers.features import build_router
from handlers.privacy.rights_queries import erase_member, export_member
from handlers.reflection.chat import NewSchedule, create_schedule
from handlers.reflection.engine import fire_now
from storage.direct_channels import DirectChannelRepository
from storage.models import DirectChannel, Member, PromptDelivery
from tests.bot.slack.test_casus_flow import post
from tests.conftest import DatabaseTarget, RunningServer, make_settings
from tests.support.harvest_seed import seed_story
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import command_body
from tests.support.slack_standin import SlackStandIn

PARTS = build_router().registry.personal_data

PEOPLE = ["U1", "U2", "U3", "U4", "U5"]
START = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def _stored(services: Services) -> dict[str, str]:
    with services.database.session() as session:
        return {row.user_id: row.channel_id for row in session.scalars(select(DirectChannel))}


def _schedule(services: Services) -> int:
    def create(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C300")
        spec = NewSchedule("succesvragen", "vrijdag 15:00", delivery="dm")
        return create_schedule(ctx, channel, spec, None).id

    return services.runtime.call_sync(create)


async def _fan_out(settings: Any, at: datetime, schedule_id: int | None = None) -> int:
    """A new process: fresh services on the same database, one `schedule run`."""
    services = build_services(settings)
    services.runtime.clock = Clock(at)
    try:
        schedule_id = schedule_id or _schedule(services)
        result = await fire_now(scheduler_for(services), schedule_id)
        assert result.run_id is not None
        with services.database.session() as session:
            statuses = session.scalars(
                select(PromptDelivery.status).where(PromptDelivery.run_id == result.run_id)
            )
            assert Counter(statuses) == Counter({"sent": len(PEOPLE)})
        return schedule_id
    finally:
        services.close()


def _dms(slack: SlackStandIn, since: int) -> Counter[str]:
    return Counter(
        str(c.args["channel"]) for c in slack.calls[since:] if c.method == "chat.postMessage"
    )


def _opened(slack: SlackStandIn, since: int) -> list[str]:
    return [str(c.args["users"]) for c in slack.calls[since:] if c.method == "conversations.open"]


async def test_a_fan_out_after_a_restart_opens_no_dm_again_and_a_gone_one_once(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    slack_api.members["C300"] = PEOPLE
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)

    schedule_id = await _fan_out(settings, START)
    assert sorted(_opened(slack_api, 0)) == PEOPLE
    services = build_services(settings)
    assert _stored(services) == {p: f"D{p}" for p in PEOPLE}
    services.close()

    # Restarted: every DM goes out, not one conversations.open.
    since = len(slack_api.calls)
    await _fan_out(settings, START + timedelta(hours=1), schedule_id)
    assert _opened(slack_api, since) == []
    assert _dms(slack_api, since) == Counter({f"D{p}": 1 for p in PEOPLE})

    # Slack no longer knows U2's stored channel: it is opened again, once, and replaced.
    slack_api.gone_channels.add("DU2")
    slack_api.dm_channels["U2"] = "DU2NEW"
    since = len(slack_api.calls)
    await _fan_out(settings, START + timedelta(hours=2), schedule_id)
    assert _opened(slack_api, since) == ["U2"]
    assert _dms(slack_api, since) == Counter({**{f"D{p}": 1 for p in PEOPLE if p != "U2"},
                                              "DU2NEW": 1})  # fmt: skip
    services = build_services(settings)
    assert _stored(services)["U2"] == "DU2NEW"
    services.close()

    since = len(slack_api.calls)
    await _fan_out(settings, START + timedelta(hours=3), schedule_id)
    assert _opened(slack_api, since) == []
    assert _dms(slack_api, since)["DU2NEW"] == 1


async def test_the_stored_dm_channel_is_in_the_export_and_goes_with_an_erasure(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    slack_api.members["C300"] = PEOPLE
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)
    await _fan_out(settings, START)
    services = build_services(settings)
    try:
        anonymous_id = services.runtime.call_sync(
            lambda ctx: ctx.repos.members.ensure("slack", "UANONIEM").id
        )
        with services.database.session() as session:
            exported = export_member(session, PARTS, "slack", "U3")
            assert {"kind": "direct", "conversation_id": "DU3"} in exported["conversations"]
            anonymous = session.get(Member, anonymous_id)
            assert anonymous is not None
            erase_member(session, PARTS, "slack", "U3", anonymous)
        assert sorted(_stored(services)) == ["U1", "U2", "U4", "U5"]
    finally:
        services.close()


# --- files for one person: the same stored DM channel ------------------------------------------


async def _stored_soon(server: RunningServer, user_id: str, channel_id: str) -> None:
    """The id is stored while the first file goes out; wait for that write."""
    for _ in range(200):
        if _stored(server.services).get(user_id) == channel_id:
            return
        await asyncio.sleep(0.01)
    assert _stored(server.services).get(user_id) == channel_id


def _completed_in(slack: SlackStandIn, since: int = 0) -> list[str]:
    return [
        str(c.args["channel_id"])
        for c in slack.calls[since:]
        if c.method == "files.completeUploadExternal"
    ]


async def test_harvest_and_export_files_for_one_person_open_their_dm_once(
    server: RunningServer,
) -> None:
    """/oogsten uploads two files and /mijn-gegevens one more, all to the facilitator's DM:
    conversations.open is called once, and the id is stored like any DM channel's."""
    seed_story(server.database)
    respond = server.slack.response_base + "oogst"
    command = command_body(
        "/oogsten", "2026-09-04..2026-10-15", user="UFAC01", channel="C1", response_url=respond
    )
    status, _ = await post(server, command)
    assert status == 200
    await server.slack.wait_for("files.completeUploadExternal", 2)
    assert _opened(server.slack, 0) == ["UFAC01"]
    assert _completed_in(server.slack) == ["DUFAC01", "DUFAC01"]
    await _stored_soon(server, "UFAC01", "DUFAC01")

    status, _ = await post(server, command_body("/mijn-gegevens", "", user="UFAC01"))
    assert status == 200
    await server.slack.wait_for("files.completeUploadExternal", 3)
    assert _opened(server.slack, 0) == ["UFAC01"]  # no second conversations.open
    assert _completed_in(server.slack) == ["DUFAC01"] * 3
    names = [c["filename"] for c in server.slack.calls_to("files.getUploadURLExternal")]
    assert [name.rsplit(".", 1)[-1] for name in names] == ["html", "png", "json"]
    assert json.loads(server.slack.uploads["F00000003"])["user_id"] == "UFAC01"
    assert _stored(server.services) == {"UFAC01": "DUFAC01"}


async def test_a_file_goes_to_the_stored_dm_and_a_gone_one_is_replaced_once(
    server: RunningServer,
) -> None:
    """A DM channel stored by an earlier process is used for a file without opening anything;
    one Slack no longer knows (channel_not_found when the file is shared) is opened again once
    and replaced, and the file arrives there."""
    with server.database.session() as session:
        DirectChannelRepository(session).save("slack", "U7", "DU7OLD")

    status, _ = await post(server, command_body("/mijn-gegevens", "", user="U7"))
    assert status == 200
    await server.slack.wait_for("files.completeUploadExternal")
    assert _opened(server.slack, 0) == []
    assert _completed_in(server.slack) == ["DU7OLD"]

    server.slack.gone_channels.add("DU7OLD")
    server.slack.dm_channels["U7"] = "DU7NEW"
    since = len(server.slack.calls)
    status, _ = await post(server, command_body("/mijn-gegevens", "", user="U7"))
    assert status == 200
    await server.slack.wait_for("files.completeUploadExternal", 2)
    assert _opened(server.slack, since) == ["U7"]
    assert _completed_in(server.slack, since) == ["DU7NEW"]
    # Made and sent to Slack twice (the refused share, then the new DM); shared once.
    assert len(server.slack.calls_to("files.getUploadURLExternal")) == 3
    await _stored_soon(server, "U7", "DU7NEW")

    since = len(server.slack.calls)
    status, _ = await post(server, command_body("/mijn-gegevens", "", user="U7"))
    assert status == 200
    await server.slack.wait_for("files.completeUploadExternal", 3)
    assert _opened(server.slack, since) == []
    assert _completed_in(server.slack, since) == ["DU7NEW"]
    assert _stored(server.services) == {"U7": "DU7NEW"}
