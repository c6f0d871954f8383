"""Speedsparren end to end: a facilitator starts a session in Slack, nine people from three
organisations join, the scheduler runs three rounds with the clock controlled, people share a
takeaway, a summary is posted. Also: a restart in the middle of a round, cancelling, too few
people, invalid input, and someone who stops halfway."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from sqlalchemy import select

from bot.scheduler import wake_job
from bot.services import Services, build_services
from handlers.profiles.chat import save_profile
from handlers.speedsparren.queries import speedspar_repo
from handlers.speedsparren.rounds import Request, create_session
from storage.models import (
    SpeedsparMessage,
    SpeedsparSeat,
    SpeedsparSession,
    SpeedsparStatus,
    SpeedsparTakeaway,
)
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
MONDAY_10 = datetime(2026, 3, 23, 10, 0, tzinfo=AMS).astimezone(UTC)
START = MONDAY_10 + timedelta(minutes=5)
ORGS = {"Gemeente Utrecht": "G", "Buurtteam Noord": "B", "Jeugdzorg Midden": "J"}
PEOPLE = {f"U{code}{n}": org for org, code in ORGS.items() for n in range(1, 4)}


async def post(server: RunningServer, body: str) -> tuple[int, str]:
    headers = signed_headers(body, FORM)
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=headers
    ) as resp:
        return resp.status, await resp.text()


def rows(services: Services, model: type, *where: Any) -> list[Any]:
    with services.database.session() as session:
        return list(session.scalars(select(model).where(*where)))


def give_profiles(services: Services, people: dict[str, str | None]) -> None:
    def step(ctx: Any) -> None:
        for user_id, org in people.items():
            member = ctx.repos.members.ensure("slack", user_id)
            save_profile(ctx, member, org or "", "jeugdconsulent", ["jeugd"])

    services.runtime.call_sync(step)


def dms(slack: SlackStandIn, since: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Direct messages per person (the stand-in's DM channel for U1 is DU1)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for call in slack.calls_to("chat.postMessage")[since:]:
        if str(call["channel"]).startswith("D"):
            out.setdefault(call["channel"][1:], []).append(call)
    return out


def groups_of(services: Services, round_: int) -> list[tuple[str, ...]]:
    from storage.models import Member

    members = {m.id: m.platform_user_id for m in rows(services, Member)}
    grouped: dict[int, list[SpeedsparSeat]] = {}
    for seat in rows(services, SpeedsparSeat, SpeedsparSeat.round == round_):
        grouped.setdefault(seat.group_no, []).append(seat)
    return [
        tuple(members[s.member_id] for s in sorted(g, key=lambda s: s.position))
        for g in grouped.values()
    ]


async def test_three_rounds_with_nine_people_from_three_organisations(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    give_profiles(services, PEOPLE)
    scheduler = scheduler_for(services)

    # Anyone may ask what is on; only facilitators start a session.
    _, text = await post(server, command_body("/speedsparren", "", user="UG1"))
    assert "Er loopt geen speedsparsessie in dit kanaal." in json.loads(text)["text"]
    # Only facilitators start a session; bad input gets a clear answer.
    _, text = await post(server, command_body("/speedsparren", "10:05", user="UG1"))
    assert "Alleen begeleiders" in json.loads(text)["text"]
    _, text = await post(server, command_body("/speedsparren", "10:05 minuten 0", user="UFAC01"))
    assert "van 2 tot en met 30" in json.loads(text)["text"]
    _, text = await post(server, command_body("/speedsparren", "09:00", user="UFAC01"))
    assert "al voorbij" in json.loads(text)["text"]

    _, text = await post(
        server, command_body("/speedsparren", "10:05 rondes 3 minuten 6", user="UFAC01")
    )
    assert "start om 10:05, 3 rondes van 6 minuten" in json.loads(text)["text"]
    (announcement,) = await slack.wait_for("chat.postMessage")
    assert announcement["channel"] == "C100"
    assert "speedspar_doe_mee" in json.dumps(announcement["blocks"])
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.OPEN
    for _ in range(100):  # the announcement's ts is recorded right after the post
        if rows(services, SpeedsparSession)[0].message_id:
            break
        await asyncio.sleep(0.02)
    assert rows(services, SpeedsparSession)[0].message_id == "1700000000.000001"

    # Nine people sign up with "Doe mee" (one clicks twice).
    for user in [*PEOPLE, "UG1"]:
        await post(
            server, interactive_body(block_action("speedspar_doe_mee", str(session.id), user=user))
        )
    notices = await slack.wait_for("chat.postEphemeral", 10)
    assert sum("Je doet mee!" in json.dumps(n, ensure_ascii=False) for n in notices) == 9
    assert sum("Je doet al mee" in json.dumps(n, ensure_ascii=False) for n in notices) == 1
    _, text = await post(server, command_body("/speedsparren", "", user="UFAC01"))
    assert "(aanmelden loopt, start 10:05): ronde 0 van 3, 9 deelnemers" in json.loads(text)["text"]
    _, text = await post(server, command_body("/speedsparren", "", user="UG1"))
    member_view = json.loads(text)["text"]
    assert "(aanmelden loopt, start 10:05): ronde 0 van 3, 9 deelnemers" in member_view
    assert "Doe mee" in member_view and "annuleer" not in member_view

    # Before the start nothing happens; at the start everyone gets round 1.
    await scheduler.tick()
    assert dms(slack) == {}
    met: Counter[frozenset[str]] = Counter()
    trios: list[frozenset[str]] = []
    for number in (1, 2, 3):
        before = len(slack.calls_to("chat.postMessage"))
        clock.set(START + timedelta(minutes=6 * (number - 1), seconds=1))
        await scheduler.tick()
        sent = dms(slack, before)
        assert sorted(sent) == sorted(PEOPLE)  # all nine, once each
        assert all(len(messages) == 1 for messages in sent.values())
        groups = groups_of(services, number)
        assert sorted(len(g) for g in groups) == [2, 2, 2, 3]
        for group in groups:
            orgs = {PEOPLE[p] for p in group}
            assert len(orgs) == len(group)  # every pair and the trio cross organisations
            for person in group:
                text = json.dumps(sent[person][0], ensure_ascii=False)
                assert f"ronde {number} van 3" in text
                for partner in group:
                    if partner != person:
                        assert f"<@{partner}>" in text
                assert ("wisselen van partner" in text) == (number > 1)
                assert "Wat deed je precies waardoor het werkte?" in text
            met.update(frozenset(p) for p in combinations(group, 2))
        for block in sent["UG1"][0]["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
        trios.append(next(frozenset(g) for g in groups if len(g) == 3))
        await scheduler.tick()  # a second tick in the same round sends nothing again
        assert len(slack.calls_to("chat.postMessage")) == before + 9
    assert max(met.values()) == 1  # nobody met anyone twice
    assert not (trios[0] & trios[1] or trios[1] & trios[2] or trios[0] & trios[2])

    # After the last round: "Wat neem je mee?" for everyone, and no summary yet.
    before = len(slack.calls_to("chat.postMessage"))
    clock.set(START + timedelta(minutes=18, seconds=1))
    await scheduler.tick()
    closing = dms(slack, before)
    assert sorted(closing) == sorted(PEOPLE)
    assert "Wat neem je mee uit deze ronde?" in json.dumps(closing["UG1"], ensure_ascii=False)
    assert rows(services, SpeedsparSession)[0].status == SpeedsparStatus.CLOSING

    # Five people share a takeaway through the one-line form.
    for user in ["UG1", "UB2", "UJ3", "UG2", "UB1"]:
        opened = len(slack.calls_to("views.open"))
        await post(
            server,
            interactive_body(
                block_action("speedspar_meenemen", str(session.id), user=user, channel="D" + user)
            ),
        )
        view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
        status, body = await post(
            server,
            interactive_body(
                view_submission(view, {"meenemen": f"Doorvragen werkt ({user})"}, user=user)
            ),
        )
        assert status == 200 and "errors" not in body, body
    assert len(rows(services, SpeedsparTakeaway)) == 5

    # The takeaway window ends: one summary in the channel.
    clock.set(START + timedelta(minutes=18 + 7))
    await scheduler.tick()
    await scheduler.tick()
    summaries = [c for c in slack.calls_to("chat.postMessage") if c["channel"] == "C100"][1:]
    assert len(summaries) == 1
    summary = json.dumps(summaries[0], ensure_ascii=False)
    assert (
        "9 deelnemers, 3 rondes en 12 gesprekken, waarvan 12 met iemand van een andere" in summary
    )
    assert "(100%)" in summary and "5 deelnemers deelden" in summary
    assert rows(services, SpeedsparSession)[0].status == SpeedsparStatus.CLOSED
    statuses = Counter(m.status for m in rows(services, SpeedsparMessage))
    assert statuses == {"sent": 36}

    # Sign-up closed at the start.
    before = len(slack.calls_to("chat.postEphemeral"))
    await post(
        server, interactive_body(block_action("speedspar_doe_mee", str(session.id), user="ULATE"))
    )
    late = await slack.wait_for("chat.postEphemeral", before + 1)
    assert "aanmelding voor deze sessie is gesloten" in json.dumps(late[-1], ensure_ascii=False)


async def _session_with(services: Services, people: dict[str, str | None], **kw: Any) -> int:
    give_profiles(services, people)

    def create(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C200")
        request = Request(starts_at=START, **kw)
        created = create_session(ctx, channel, request, None)
        for user_id in people:
            speedspar_repo(ctx).join(created, ctx.repos.members.ensure("slack", user_id))
        return created.id

    return services.runtime.call_sync(create)


async def test_a_restart_in_the_middle_of_a_round_sends_nothing_twice(
    database_target: DatabaseTarget, slack_api: SlackStandIn
) -> None:
    settings = make_settings(database_target.url, SLACK_API_URL=slack_api.url)
    first = build_services(settings)
    first.runtime.clock = Clock(MONDAY_10)
    await _session_with(first, PEOPLE)

    # Round 1 starts; the process dies after four of the nine DMs.
    first.runtime.clock = Clock(START + timedelta(seconds=1))
    slack_api.fail_after["chat.postMessage"] = (4, "internal_error")
    dying = scheduler_for(first)
    await dying.tick()
    assert len(slack_api.calls_to("chat.postMessage")) == 4
    await dying.stop()
    first.close()

    # A new process on the same database, three minutes into round 1.
    slack_api.fail_after.clear()
    second = build_services(settings)
    clock = Clock(START + timedelta(minutes=3))
    second.runtime.clock = clock
    survivor = scheduler_for(second)
    await survivor.tick()
    round1 = dms(slack_api)
    assert sorted(round1) == sorted(PEOPLE) and all(len(m) == 1 for m in round1.values())
    groups_before = groups_of(second, 1)
    await survivor.tick()
    assert len(slack_api.calls_to("chat.postMessage")) == 9
    assert groups_of(second, 1) == groups_before  # not paired again

    # Down again across the end of round 1: round 1 is closed when it comes back and round 2
    # runs to its planned end (no one is left waiting).
    clock.set(START + timedelta(minutes=8))
    await survivor.tick()
    round2 = dms(slack_api, 9)
    assert sorted(round2) == sorted(PEOPLE)
    (session,) = rows(second, SpeedsparSession)
    assert session.current_round == 2
    assert session.round_ends_at == START + timedelta(minutes=12)

    # Down for more than a whole round: the session ends cleanly with the takeaway question.
    clock.set(START + timedelta(minutes=19))
    await survivor.tick()
    (session,) = rows(second, SpeedsparSession)
    assert session.status == SpeedsparStatus.CLOSING and session.current_round == 2
    closing = dms(slack_api, 18)
    assert sorted(closing) == sorted(PEOPLE)
    assert "Wat neem je mee" in json.dumps(closing["UG1"], ensure_ascii=False)
    keys = [(m.kind, m.round, m.user_id) for m in rows(second, SpeedsparMessage)]
    assert len(keys) == len(set(keys)) == 27
    await survivor.stop()
    second.close()


async def test_boundary_job_starts_the_round_at_its_time(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    session_id = await _session_with(services, {"U1": "A", "U2": "B"})
    scheduler = scheduler_for(services, tick_seconds=300)
    scheduler.start()
    await scheduler.tick()
    job = scheduler._scheduler.get_job(f"speedspar-{session_id}")  # type: ignore[union-attr]
    assert job is not None and job.trigger.run_date == START.astimezone(job.trigger.run_date.tzinfo)
    clock.set(START)
    await wake_job(f"speedspar-{session_id}")  # what APScheduler calls at 10:05:00
    assert sorted(dms(slack)) == ["U1", "U2"]
    job = scheduler._scheduler.get_job(f"speedspar-{session_id}")  # type: ignore[union-attr]
    assert job.trigger.run_date == (START + timedelta(minutes=6)).astimezone(
        job.trigger.run_date.tzinfo
    )
    await scheduler.stop()  # before the server closes the database


async def test_fewer_than_two_people_cancels_cleanly(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    await _session_with(services, {"U1": "A"})
    clock.set(START + timedelta(seconds=1))
    await scheduler_for(services).tick()
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.CANCELLED and session.cancel_reason == "too_few"
    channel_posts = [c for c in slack.calls_to("chat.postMessage") if c["channel"] == "C200"]
    assert len(channel_posts) == 1 and "minder dan twee" in json.dumps(
        channel_posts[0], ensure_ascii=False
    )
    assert "minder dan twee" in json.dumps(dms(slack)["U1"], ensure_ascii=False)
    assert rows(services, SpeedsparSeat) == []


async def test_a_facilitator_cancels_and_participants_are_told(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    await _session_with(services, {"U1": "A", "U2": "B", "U3": None})
    _, text = await post(
        server, command_body("/speedsparren", "annuleer", user="U1", channel="C200")
    )
    assert "Alleen begeleiders" in json.loads(text)["text"]
    _, text = await post(
        server, command_body("/speedsparren", "annuleer", user="UFAC01", channel="C200")
    )
    assert "geannuleerd" in json.loads(text)["text"]
    await scheduler_for(services).tick()
    assert sorted(dms(slack)) == ["U1", "U2", "U3"]
    assert "geannuleerd door de begeleider" in json.dumps(dms(slack)["U3"], ensure_ascii=False)
    clock.set(START + timedelta(minutes=1))
    await scheduler_for(services).tick()
    assert rows(services, SpeedsparSeat) == []  # a cancelled session never starts


async def test_someone_who_stops_is_dropped_and_their_partner_is_told(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    people: dict[str, str | None] = {"U1": "A", "U2": "B", "U3": "A", "U4": "B"}
    session_id = await _session_with(services, people)
    scheduler = scheduler_for(services)
    clock.set(START + timedelta(seconds=1))
    await scheduler.tick()
    group = next(g for g in groups_of(services, 1) if "U1" in g)
    partner = next(p for p in group if p != "U1")
    before = len(slack.calls_to("chat.postMessage"))
    await post(
        server,
        interactive_body(block_action("speedspar_stop", str(session_id), user="U1", channel="DU1")),
    )
    told = await slack.wait_for("chat.postMessage", before + 1)
    assert told[-1]["channel"] == f"D{partner}"
    assert "<@U1> moest stoppen" in json.dumps(told[-1], ensure_ascii=False)
    clock.set(START + timedelta(minutes=6, seconds=1))
    await scheduler.tick()
    round2 = groups_of(services, 2)
    assert all("U1" not in g for g in round2)
    assert sorted(len(g) for g in round2) == [3]  # three left: one trio


async def test_the_facilitator_fills_the_odd_seat_when_asked(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    people: dict[str, str | None] = {"U1": "A", "U2": "B", "U3": "C"}
    give_profiles(services, {**people, "UFAC01": "Leerkring"})

    def create(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C200")
        facilitator = ctx.repos.members.ensure("slack", "UFAC01", facilitator=True)
        request = Request(starts_at=START, facilitator_fills=True)
        created = create_session(ctx, channel, request, facilitator)
        for user_id in people:
            speedspar_repo(ctx).join(created, ctx.repos.members.ensure("slack", user_id))
        return created.id

    services.runtime.call_sync(create)
    clock.set(START + timedelta(seconds=1))
    await scheduler_for(services).tick()
    assert sorted(dms(slack)) == ["U1", "U2", "U3", "UFAC01"]
    assert sorted(len(g) for g in groups_of(services, 1)) == [2, 2]  # no trio needed


async def test_a_group_too_small_for_new_partners_is_told(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    await _session_with(services, {"U1": "A", "U2": None}, rounds=2)
    scheduler = scheduler_for(services)
    for number in (1, 2):
        clock.set(START + timedelta(minutes=6 * (number - 1), seconds=1))
        await scheduler.tick()
    first, second = dms(slack)["U1"]
    assert "al eerder" not in json.dumps(first, ensure_ascii=False)
    assert "al eerder in deze sessie" in json.dumps(second, ensure_ascii=False)
    seats = rows(services, SpeedsparSeat, SpeedsparSeat.round == 2)
    assert all(seat.repeat for seat in seats) and all(seat.cross_org for seat in seats)


async def test_two_hundred_people_are_paired_and_messaged_once_despite_rate_limits(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    people: dict[str, str | None] = {
        f"U{n:03d}": (f"Organisatie {n % 15}" if n % 20 else None) for n in range(200)
    }
    await _session_with(services, people)
    # Low enough that 8 senders hit it also on a loaded machine (a cold fan-out also stores
    # every DM channel it opens).
    slack.rate_limits["chat.postMessage"] = (60, 1.0)
    scheduler = scheduler_for(services, concurrency=8)
    clock.set(START + timedelta(seconds=1))
    await scheduler.tick()
    # A DM still refused after the client's own retries stays pending for the next tick.
    clock.set(START + timedelta(seconds=16))
    await scheduler.tick()
    sent = dms(slack)
    assert sorted(sent) == sorted(people) and all(len(m) == 1 for m in sent.values())
    assert slack.rate_limited > 0  # 429s happened and were waited out
    groups = groups_of(services, 1)
    assert len(groups) == 100 and sorted({len(g) for g in groups}) == [2]
    assert all(s.cross_org for s in rows(services, SpeedsparSeat))
    assert {m.status for m in rows(services, SpeedsparMessage)} == {"sent"}


async def test_a_start_missed_by_more_than_a_round_is_called_off(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    await _session_with(services, {"U1": "A", "U2": "B"})
    clock.set(START + timedelta(minutes=30))  # the bot was down at 10:05
    await scheduler_for(services).tick()
    (session,) = rows(services, SpeedsparSession)
    assert session.status == SpeedsparStatus.CANCELLED and session.cancel_reason == "missed"
    assert rows(services, SpeedsparSeat) == []
    assert "kon niet op tijd beginnen" in json.dumps(dms(slack)["U2"], ensure_ascii=False)


async def test_the_next_session_avoids_last_sessions_pairs(server: RunningServer) -> None:
    services = server.services
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    people: dict[str, str | None] = {"UA1": "A", "UA2": "A", "UB1": "B", "UB2": "B"}
    scheduler = scheduler_for(services)
    seen: list[set[frozenset[str]]] = []
    for week in range(2):
        start = START + timedelta(weeks=week)

        def create(ctx: Any, start: datetime = start) -> int:
            channel = ctx.repos.channels.ensure("slack", "C200")
            request = Request(starts_at=start, rounds=1)
            created = create_session(ctx, channel, request, None)
            for user_id in people:
                speedspar_repo(ctx).join(created, ctx.repos.members.ensure("slack", user_id))
            return created.id

        if week == 0:
            give_profiles(services, people)
        services.runtime.call_sync(create)
        clock.set(start + timedelta(seconds=1))
        await scheduler.tick()
        clock.set(start + timedelta(minutes=30))
        await scheduler.tick()
        seen.append({frozenset(g) for g in groups_of_session(services, week + 1)})
    # Both weeks cross organisations (A with B), and week two has the other two pairs.
    assert all(len({p[1] for p in group}) == 2 for week in seen for group in week)
    assert not seen[0] & seen[1]


def groups_of_session(services: Services, session_id: int) -> list[tuple[str, ...]]:
    from storage.models import Member

    members = {m.id: m.platform_user_id for m in rows(services, Member)}
    grouped: dict[int, list[str]] = {}
    for seat in rows(services, SpeedsparSeat, SpeedsparSeat.session_id == session_id):
        grouped.setdefault(seat.group_no, []).append(members[seat.member_id])
    return [tuple(g) for g in grouped.values()]


async def test_someone_who_snoozes_is_dropped_from_later_rounds(server: RunningServer) -> None:
    services = server.services
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    await _session_with(services, {"U1": "A", "U2": "B", "U3": "A", "U4": "B"})
    scheduler = scheduler_for(services)
    clock.set(START + timedelta(seconds=1))
    await scheduler.tick()
    _, text = await post(server, command_body("/reflectie", "snooze 2026-03-30", user="U4"))
    assert "maandag 30 maart 2026" in json.loads(text)["text"]
    clock.set(START + timedelta(minutes=6, seconds=1))
    await scheduler.tick()
    (trio,) = groups_of(services, 2)
    assert sorted(trio) == ["U1", "U2", "U3"]


async def test_the_summary_comes_as_soon_as_everyone_shared(server: RunningServer) -> None:
    services, slack = server.services, server.slack
    clock = Clock(MONDAY_10)
    services.runtime.clock = clock
    session_id = await _session_with(services, {"U1": "A", "U2": "B"}, rounds=1)
    scheduler = scheduler_for(services)
    clock.set(START + timedelta(seconds=1))
    await scheduler.tick()
    clock.set(START + timedelta(minutes=6, seconds=1))
    await scheduler.tick()
    for number, user in enumerate(("U1", "U2"), start=1):
        await post(
            server,
            interactive_body(block_action("speedspar_meenemen", str(session_id), user=user)),
        )
        view = (await slack.wait_for("views.open", number))[-1]["view"]
        await post(
            server,
            interactive_body(view_submission(view, {"meenemen": "Kleine stappen"}, user=user)),
        )
    clock.set(START + timedelta(minutes=7))  # well before the takeaway window ends
    await scheduler.tick()
    (summary,) = [c for c in slack.calls_to("chat.postMessage") if c["channel"] == "C200"]
    assert "2 deelnemers deelden" in json.dumps(summary, ensure_ascii=False)
    assert rows(services, SpeedsparSession)[0].status == SpeedsparStatus.CLOSED
