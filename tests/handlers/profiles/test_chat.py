"""Member profiles through the real server: one welcome DM per person on joining a channel,
/profiel shows and edits, the privacy guard checks the form, and the CSV import."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from slack_sdk.models.views import View
from sqlalchemy import select

from bot.services import Services
from storage.models import Member, MemberProfile, Organisation
from tests.conftest import DatabaseTarget, RunningServer
from tests.support.scheduling import scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import (
    block_action,
    command_body,
    interactive_body,
    signed_headers,
    view_submission,
)


async def post(server: RunningServer, body: str, content_type: str) -> tuple[int, str]:
    headers = signed_headers(body, content_type)
    url = f"{server.url}/slack/events"
    async with server.http.post(url, data=body.encode(), headers=headers) as resp:
        return resp.status, await resp.text()


def joined_event(user: str, channel: str, event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": {
                "type": "member_joined_channel",
                "user": user,
                "channel": channel,
                "channel_type": "C",
                "team": "T1",
                "event_ts": "1700000100.000100",
            },
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000100,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT000001", "is_bot": True}],
        }
    )


def rows(services: Services, model: type) -> list[Any]:
    with services.database.session() as session:
        return list(session.scalars(select(model)))


async def test_a_new_member_is_welcomed_once_and_fills_in_the_profile(
    server: RunningServer,
) -> None:
    slack = server.slack
    for channel, event_id in (("C100", "Ev1"), ("C100", "Ev1"), ("C200", "Ev2")):
        status, _ = await post(server, joined_event("U777", channel, event_id), "application/json")
        assert status == 200
    # The welcome is owed from the join on; the scheduler's tick sends it.
    (owed,) = rows(server.services, MemberProfile)
    assert owed.welcome_status == "pending" and owed.welcomed_at is None
    scheduler = scheduler_for(server.services)
    assert (await scheduler.tick())["welcomed"] == 1
    assert "welcomed" not in await scheduler.tick()
    (welcome,) = slack.calls_to("chat.postMessage")  # not again on a second channel
    assert welcome["channel"] == "DU777"
    text = json.dumps(welcome, ensure_ascii=False)
    assert "<@U777>" in text and "profiel_bewerken" in text

    # The button opens the form; expertise offers the perspectives list.
    await post(
        server,
        interactive_body(block_action("profiel_bewerken", "welkom", user="U777", channel="DU777")),
        "application/x-www-form-urlencoded",
    )
    view = (await slack.wait_for("views.open"))[-1]["view"]
    View(**view).validate_json()
    assert view["callback_id"] == "profiel"
    assert "Jeugd en gezin" in json.dumps(view, ensure_ascii=False)

    # A phone number in the role is refused, nothing stored.
    payload = view_submission(
        view, {"organisatie": "Buurtteam Noord", "rol": "bel 06-12345678"}, user="U777"
    )
    status, body = await post(
        server, interactive_body(payload), "application/x-www-form-urlencoded"
    )
    assert "errors" in json.loads(body) and "rol" in json.loads(body)["errors"]
    assert rows(server.services, Organisation) == []

    answer = {"organisatie": "Buurtteam Noord", "rol": "Wijkcoach", "expertise": ["jeugd", "wonen"]}
    status, body = await post(
        server, interactive_body(view_submission(view, answer, user="U777")),
        "application/x-www-form-urlencoded",
    )  # fmt: skip
    assert status == 200 and "errors" not in body
    (member,) = [m for m in rows(server.services, Member) if m.platform_user_id == "U777"]
    assert member.role == "Wijkcoach"
    (organisation,) = rows(server.services, Organisation)
    assert organisation.name == "Buurtteam Noord" and member.organisation_id == organisation.id
    (profile,) = rows(server.services, MemberProfile)
    assert profile.expertise == ["jeugd", "wonen"] and profile.welcomed_at is not None

    # /profiel shows it, with a button to edit; the same organisation in other case is reused.
    status, body = await post(
        server, command_body("/profiel", user="U777"), "application/x-www-form-urlencoded"
    )
    shown = json.loads(body)
    assert shown["response_type"] == "ephemeral"
    rendered = json.dumps(shown, ensure_ascii=False)
    assert "Buurtteam Noord" in rendered and "Wonen" in rendered and "profiel_bewerken" in rendered
    await post(
        server,
        interactive_body(block_action("profiel_bewerken", "profiel", user="U888")),
        "application/x-www-form-urlencoded",
    )
    view = (await slack.wait_for("views.open", 2))[-1]["view"]
    answer = {"organisatie": "buurtteam noord", "rol": "", "expertise": []}
    await post(
        server, interactive_body(view_submission(view, answer, user="U888")),
        "application/x-www-form-urlencoded",
    )  # fmt: skip
    assert len(rows(server.services, Organisation)) == 1


CSV = """platform,user_id,name,organisation,role,expertise
slack,U1,Anna,Gemeente Utrecht,beleidsmedewerker,beleid;jeugd
slack,U2,Bram,Buurtteam Noord,wijkcoach,Wonen
slack,U3,Cem,,jeugdconsulent,
"""


async def leerkring(database_target: DatabaseTarget, cwd: Path, *args: str) -> tuple[int, str, str]:
    import os

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
        "DATABASE_URL": database_target.url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_members_import_is_all_or_nothing_with_errors_per_line(
    database_target: DatabaseTarget, tmp_path: Path
) -> None:
    from storage.db import Database

    bad = tmp_path / "bad.csv"
    bad.write_text(
        CSV + "slack,,Dirk,X,,\nteams-x,U5,Eva,X,,\nslack,U6,Fien,X,,onbekend-gebied\n"
        "slack,U7,Gijs,X,bel 0612345678,\nslack,U1,Anna,X,,\n",
        encoding="utf-8",
    )
    code, out, err = await leerkring(database_target, tmp_path, "members", "import", str(bad))
    assert code == 1
    assert "line 5: user_id is empty" in err
    assert "line 6: platform" in err
    assert "line 7: expertise" in err and "onbekend-gebied" in err
    assert "line 8: role" in err and "0612345678" not in err
    assert "line 9: U1 appears twice" in err
    assert "nothing was imported" in err
    database = Database.from_url(database_target.url)
    with database.session() as session:
        assert list(session.scalars(select(Member))) == []

    good = tmp_path / "leden.csv"
    good.write_text(CSV, encoding="utf-8")
    code, out, err = await leerkring(database_target, tmp_path, "members", "import", str(good))
    assert code == 0, err
    assert "3 members imported (3 new), 2 organisations" in out
    with database.session() as session:
        members = {m.platform_user_id: m for m in session.scalars(select(Member))}
        assert members["U1"].display_name == "Anna"
        assert members["U1"].organisation is not None
        assert members["U1"].organisation.name == "Gemeente Utrecht"
        assert members["U3"].organisation_id is None  # takes part as an organisation of their own
        profile = session.get(MemberProfile, members["U2"].id)
        assert profile is not None and profile.expertise == ["wonen"]
    # Importing again updates, it does not duplicate.
    code, out, _ = await leerkring(database_target, tmp_path, "members", "import", str(good))
    assert code == 0 and "(0 new)" in out
    database.dispose()


async def test_a_welcome_slack_refused_for_a_moment_goes_out_at_a_later_tick_once(
    server: RunningServer,
) -> None:
    slack = server.slack
    await post(server, joined_event("U777", "C100", "Ev1"), "application/json")
    scheduler = scheduler_for(server.services)
    slack.fail["chat.postMessage"] = "internal_error"
    assert "welcomed" not in await scheduler.tick()
    assert slack.history.get("DU777", []) == []
    (profile,) = rows(server.services, MemberProfile)
    assert profile.welcome_status == "sending" and profile.welcomed_at is None

    del slack.fail["chat.postMessage"]
    assert (await scheduler.tick())["welcomed"] == 1  # not found by its key: sent now
    assert "welcomed" not in await scheduler.tick()
    (welcome,) = slack.history["DU777"]
    assert welcome["metadata"]["event_payload"]["key"] == f"leerkring:welcome:{profile.member_id}"
    (profile,) = rows(server.services, MemberProfile)
    assert profile.welcome_status == "sent" and profile.welcomed_at is not None


async def test_a_welcome_whose_answer_was_lost_is_not_sent_twice(server: RunningServer) -> None:
    slack = server.slack
    await post(server, joined_event("U777", "C100", "Ev1"), "application/json")
    scheduler = scheduler_for(server.services)
    slack.lose_answers["chat.postMessage"] = 1  # Slack posts it, a proxy answers 504
    assert "welcomed" not in await scheduler.tick()
    assert rows(server.services, MemberProfile)[0].welcome_status == "sending"
    assert (await scheduler.tick())["welcomed"] == 1  # found in the DM's history
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.history["DU777"]) == 1
    assert rows(server.services, MemberProfile)[0].welcome_status == "sent"


async def test_the_bot_joining_a_channel_is_not_welcomed(server: RunningServer) -> None:
    from tests.support.slack_standin import BOT_USER_ID

    status, _ = await post(server, joined_event(BOT_USER_ID, "C100", "EvBot"), "application/json")
    assert status == 200
    assert "welcomed" not in await scheduler_for(server.services).tick()
    assert rows(server.services, MemberProfile) == []
    assert server.slack.calls_to("chat.postMessage") == []
    assert server.slack.calls_to("conversations.open") == []
