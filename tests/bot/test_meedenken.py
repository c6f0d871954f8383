"""Wie kan meedenken, end to end on Slack: members of three organisations with overlapping
expertise, a casus brought in through the signed modal, the private suggestion (who, in what
order), the opt-out in /profiel, the snooze, the button pressed twice (one request, one DM),
three requests per casus, one per member per week, and the harvest's counts. Both databases."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.services import build_services
from handlers.core.sections import Scope
from handlers.meedenken.harvest import MeedenkenSource
from handlers.profiles.chat import save_profile
from storage.models import Bijdrage, Casus, MeedenkRequest, MemberProfile
from tests.bot.slack.test_casus_flow import CLEAN, bring_in, post
from tests.conftest import RunningServer
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import block_action, command_body, interactive_body, view_submission

AMS = ZoneInfo("Europe/Amsterdam")
TUESDAY = datetime(2026, 3, 24, 10, 0, tzinfo=AMS)
ASK = "meedenken_vraag"

# user -> (organisation, expertise). U111 brings the casus in (perspectives schulden, jeugd).
PEOPLE = {
    "U111": ("Wijkteam Oost", ["jeugd"]),
    "UA1": ("Wijkteam Oost", ["schulden", "jeugd"]),  # the inbrenger's own organisation
    "UB1": ("Schuldhulp Utrecht", ["schulden", "jeugd"]),  # both perspectives
    "UB2": ("Schuldhulp Utrecht", ["schulden"]),  # fourth: a second of Schuldhulp
    "UC1": ("Jeugdzorg Midden", ["jeugd", "ggz"]),
    "UD1": ("GGD", ["ggz"]),  # knows nothing sought
    "UE1": ("Gemeente", ["schulden"]),  # switches it off in /profiel
    "UF1": ("Veilig Thuis", ["jeugd"]),  # snoozed
    "UG1": ("Buurtteam", ["jeugd"]),
}


def seed(server: RunningServer) -> None:
    def step(ctx: Any) -> None:
        for user, (organisation, expertise) in PEOPLE.items():
            member = ctx.repos.members.ensure("slack", user, display_name=user.lower())
            save_profile(ctx, member, organisation, "", expertise)

    server.services.runtime.call_sync(step)


def requests(server: RunningServer) -> list[MeedenkRequest]:
    with server.database.session() as session:
        return list(session.scalars(select(MeedenkRequest).order_by(MeedenkRequest.id)))


def mentions(blocks: list[dict[str, Any]]) -> list[str]:
    """The people in a suggestion, in order (each section that mentions one)."""
    found = []
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and text.startswith("<@"):
            found.append(text[2 : text.index(">")])
    return found


async def suggestion_after(server: RunningServer, user: str, values: dict[str, Any]) -> Any:
    """The casus, and the suggestion: a direct message to the inbrenger only."""
    before = len(server.slack.calls_to("chat.postMessage"))
    casus = await bring_in(server, values, user=user)
    calls = await server.slack.wait_for("chat.postMessage", before + 2)
    assert [c["channel"] for c in calls[before:]] == ["C100", f"D{user}"]
    return casus, calls[-1]


async def press(server: RunningServer, value: str, user: str = "U111") -> str:
    before = len(server.slack.calls_to("chat.postEphemeral"))
    status, _ = await post(server, interactive_body(block_action(ASK, value, user=user)))
    assert status == 200
    calls = await server.slack.wait_for("chat.postEphemeral", before + 1)
    return json.dumps(calls[-1], ensure_ascii=False)


async def switch_off(server: RunningServer, user: str) -> None:
    """/profiel -> Bewerken -> the form, answering "Nee, liever niet"."""
    status, _ = await post(server, command_body("/profiel", user=user))
    assert status == 200
    opened = len(server.slack.calls_to("views.open"))
    await post(server, interactive_body(block_action("profiel_bewerken", "profiel", user=user)))
    view = (await server.slack.wait_for("views.open", opened + 1))[-1]["view"]
    organisation, expertise = PEOPLE[user]
    values = {"organisatie": organisation, "expertise": expertise, "meedenken": "nee"}
    status, text = await post(server, interactive_body(view_submission(view, values, user=user)))
    assert status == 200 and "errors" not in text, text


async def test_suggestions_order_opt_out_snooze_and_one_dm_per_request(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(TUESDAY)
    services.runtime.clock = clock
    seed(server)
    await switch_off(server, "UE1")
    status, text = await post(server, command_body("/reflectie", "snooze 2026-04-30", user="UF1"))
    assert status == 200 and "donderdag 30 april 2026" in text

    casus, notice = await suggestion_after(server, "U111", CLEAN)
    rendered = json.dumps(notice, ensure_ascii=False)
    # Both perspectives first; then one per organisation before a second of the same one.
    assert mentions(notice["blocks"]) == ["UB1", "UC1", "UG1"]
    assert "Schuldhulp Utrecht" in rendered and "Jeugdzorg Midden" in rendered
    assert "Vraag ub1 om mee te denken" in rendered
    for absent in ("UA1", "UD1", "UE1", "UF1", "U111"):
        assert f"<@{absent}>" not in rendered

    # Someone else cannot use the inbrenger's button.
    assert "Alleen de inbrenger" in await press(
        server, f"{casus.id}:{member_id(server, 'UB1')}", "UC1"
    )
    # The button pressed twice (or delivered twice): one request.
    ub1 = member_id(server, "UB1")
    assert "Verstuurd" in await press(server, f"{casus.id}:{ub1}")
    # The suggestion now shows UB1 as asked, without a button, and the two others still.
    update = slack.calls_to("chat.update")[-1]
    assert "<@UB1> is gevraagd om mee te denken" in json.dumps(update, ensure_ascii=False)
    buttons = [
        e["value"] for b in update["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [f"{casus.id}:{member_id(server, u)}" for u in ("UC1", "UG1")]
    assert "al gevraagd" in await press(server, f"{casus.id}:{ub1}")
    assert [(r.member_id, r.status) for r in requests(server)] == [(ub1, "pending")]

    # Two processes on the same database tick at the same moment, then again: one DM.
    other = build_services(services.settings)
    other.runtime.clock = clock
    first, second = scheduler_for(services), scheduler_for(other)
    await asyncio.gather(first.tick(), second.tick())
    await asyncio.gather(first.tick(), second.tick())
    await second.stop()
    other.close()
    dms = [c for c in slack.calls_to("chat.postMessage") if c["channel"] == "DUB1"]
    assert len(dms) == 1
    dm = json.dumps(dms[0], ensure_ascii=False)
    assert CLEAN["titel"] in dm
    link = f"https://leerkring-test.slack.com/archives/C100/p{casus.message_id.replace('.', '')}"
    assert link in dm and "<@U111>" in dm
    (request,) = requests(server)
    assert request.status == "sent" and request.message_id is not None

    # The opted-out and the snoozed cannot be asked with a made-up button either.
    assert "kan nu niet" in await press(server, f"{casus.id}:{member_id(server, 'UE1')}")
    assert "kan nu niet" in await press(server, f"{casus.id}:{member_id(server, 'UF1')}")
    # Three per casus: UC1, UG1, then UB2 (not suggested, but eligible) is one too many.
    assert "Verstuurd" in await press(server, f"{casus.id}:{member_id(server, 'UC1')}")
    assert "Verstuurd" in await press(server, f"{casus.id}:{member_id(server, 'UG1')}")
    assert "al 3 mensen" in await press(server, f"{casus.id}:{member_id(server, 'UB2')}")
    assert len(requests(server)) == 3
    await first.tick()
    targets = sorted(
        c["channel"] for c in slack.calls_to("chat.postMessage") if c["channel"][0] == "D"
    )
    assert targets == ["DU111", "DUB1", "DUC1", "DUG1"]  # the suggestion, three requests

    # UC1 answers in the thread: the harvest counts three requests, one that led to a bijdrage.
    def bijdrage(ctx: Any) -> None:
        author = ctx.repos.members.ensure("slack", "UC1")
        ctx.session.add(Bijdrage(casus_id=casus.id, author_id=author.id, text="Ik denk mee"))

    clock.set(TUESDAY + timedelta(hours=1))
    services.runtime.call_sync(bijdrage)
    with server.database.session() as session:
        section = MeedenkenSource().collect(
            session, Scope(TUESDAY - timedelta(days=1), TUESDAY + timedelta(days=1))
        )
    figures = dict(section.figures)
    assert figures["oogsten.report.meedenken_requests"] == 3
    assert figures["oogsten.report.meedenken_sent"] == 3
    assert figures["oogsten.report.meedenken_bijdragen"] == 1
    assert ("Wijkteam Oost → Schuldhulp Utrecht", ("1",)) in [
        (i.title, i.lines) for i in section.items
    ]


def member_id(server: RunningServer, user: str) -> int:
    def step(ctx: Any) -> int:
        return ctx.repos.members.ensure("slack", user).id

    return int(server.services.runtime.call_sync(step))


async def test_one_request_per_member_per_week_and_the_least_recently_asked_first(
    server: RunningServer,
) -> None:
    services = server.services
    clock = Clock(TUESDAY)
    services.runtime.clock = clock
    seed(server)
    schulden = {**CLEAN, "perspectieven": ["schulden"]}

    first, _ = await suggestion_after(server, "U111", schulden)
    assert "Verstuurd" in await press(server, f"{first.id}:{member_id(server, 'UB1')}")

    # Two days later UC1 brings in a casus: UB1 was asked this week, so is not suggested, and
    # a made-up button for UB1 is refused.
    clock.set(TUESDAY + timedelta(days=2))
    second, notice = await suggestion_after(server, "UC1", schulden)
    assert mentions(notice["blocks"]) == ["UA1", "UB2", "UE1"]
    refused = await press(server, f"{second.id}:{member_id(server, 'UB1')}", "UC1")
    assert "deze week al gevraagd" in refused
    assert len(requests(server)) == 1

    # Eight days after the first request UB1 may be asked again, after those never asked
    # (by member order alone UB1 would come first).
    clock.set(TUESDAY + timedelta(days=8))
    third, notice = await suggestion_after(server, "UA1", schulden)
    assert mentions(notice["blocks"]) == ["UB2", "UE1", "UB1"]
    assert "Verstuurd" in await press(server, f"{third.id}:{member_id(server, 'UB1')}", "UA1")
    assert len(requests(server)) == 2
    with server.database.session() as session:
        profile = session.get(MemberProfile, member_id(server, "UE1"))
        assert profile is not None and profile.open_to_requests
        assert session.scalar(select(Casus.id).where(Casus.id == third.id)) == third.id


async def test_export_and_erasure_cover_the_requests(server: RunningServer) -> None:
    from handlers.privacy.rights import erase, export_json

    services = server.services
    services.runtime.clock = Clock(TUESDAY)
    seed(server)
    casus, _ = await suggestion_after(server, "U111", CLEAN)
    assert "Verstuurd" in await press(server, f"{casus.id}:{member_id(server, 'UB1')}")

    def exported(user: str) -> Any:
        return json.loads(services.runtime.call_sync(lambda ctx: export_json(ctx, "slack", user)))

    received = exported("UB1")["meedenken"]["received"]
    assert [(r["casus_id"], r["status"]) for r in received] == [(casus.id, "pending")]
    assert [r["casus_id"] for r in exported("U111")["meedenken"]["sent"]] == [casus.id]
    assert exported("UB1")["member"]["open_to_requests"] is True
    assert exported("UB1")["member"]["work_days"] == [1, 2, 3, 4, 5]

    services.runtime.call_sync(lambda ctx: erase(ctx, "slack", "U111"))
    (request,) = requests(server)
    assert request.asked_by_id is None  # the count stays, the name goes
    services.runtime.call_sync(lambda ctx: erase(ctx, "slack", "UB1"))
    assert requests(server) == []


async def test_an_anonymous_casus_gets_suggestions_without_tying_the_inbrenger_to_it(
    server: RunningServer,
) -> None:
    from tests.bot.test_privacy_anonymous import SECRET, bring_in_anonymously

    services, slack = server.services, server.slack
    services.runtime.hmac_secret = SECRET
    services.runtime.clock = Clock(TUESDAY)
    seed(server)
    casus = await bring_in_anonymously(server)
    suggestion = (await slack.wait_for("chat.postMessage", 2))[-1]
    assert suggestion["channel"] == "DU111"  # found again through the keyed hash
    assert mentions(suggestion["blocks"]) == ["UB1", "UC1", "UE1"]  # not Wijkteam Oost
    # Someone else cannot use it; the inbrenger can.
    ub1 = member_id(server, "UB1")
    assert "Alleen de inbrenger" in await press(server, f"{casus.id}:{ub1}", "UC1")
    assert "Verstuurd" in await press(server, f"{casus.id}:{ub1}")
    (request,) = requests(server)
    assert request.asked_by_id == casus.inbrenger_id != member_id(server, "U111")
    await scheduler_for(services).tick()
    (dm,) = [c for c in slack.calls_to("chat.postMessage") if c["channel"] == "DUB1"]
    text = json.dumps(dm, ensure_ascii=False)
    assert "Een collega heeft een casus ingebracht" in text and "U111" not in text
