"""DM channel ids are kept in the database: conversations.open is Tier 3 (about 50 a minute),
so a restarted process (or `leerkring schedule run`) must not open every DM again. A stored id
that Slack no longer knows is replaced once. Real services and the Web API stand-in."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.services import Services, build_services
from handlers.reflection import NewSchedule, create_schedule
from storage.models import DirectChannel, Member, PromptDelivery
from storage.privacy_rights import erase_member, export_member
from tests.conftest import DatabaseTarget, make_settings
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.slack_standin import SlackStandIn

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
        result = await scheduler_for(services).fire_now(schedule_id)
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
            exported = export_member(session, "slack", "U3")
            assert {"kind": "direct", "conversation_id": "DU3"} in exported["conversations"]
            anonymous = session.get(Member, anonymous_id)
            assert anonymous is not None
            erase_member(session, "slack", "U3", anonymous)
        assert sorted(_stored(services)) == ["U1", "U2", "U4", "U5"]
    finally:
        services.close()
