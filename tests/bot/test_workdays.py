"""Working days, end to end on Slack: someone who works Tuesday to Thursday sets it in
/profiel (a signed modal), and Friday's reflection DM reaches them on Tuesday at the start of
the day, once, across a restart in between, with the clock controlled. A reminder that falls
on a day off is not sent that day (here it expires with the run), nor is a prompt whose run
closes before the person's working day. The DMs of people who work on Friday are unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.services import build_services
from handlers.reflection.chat import NewSchedule, create_schedule
from storage.models import MemberProfile, PromptDelivery
from tests.bot.slack.test_casus_flow import post
from tests.conftest import RunningServer
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import block_action, command_body, interactive_body, view_submission

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 3, 23, 10, 0, tzinfo=AMS)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A local moment in the week of 23 March 2026 (Monday the 23rd); summer time starts on
    Sunday the 29th, so a 96-hour window from Friday 15:00 closes on Tuesday at 16:00."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=AMS)


async def set_work_days(server: RunningServer, user: str, days: list[str]) -> str:
    await post(server, command_body("/profiel", user=user))
    opened = len(server.slack.calls_to("views.open"))
    await post(server, interactive_body(block_action("profiel_bewerken", "profiel", user=user)))
    view = (await server.slack.wait_for("views.open", opened + 1))[-1]["view"]
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    shown = [o["value"] for o in inputs["werkdagen"]["element"]["initial_options"]]
    assert shown == ["1", "2", "3", "4", "5"]  # the default, Monday to Friday
    status, text = await post(
        server, interactive_body(view_submission(view, {"werkdagen": days}, user=user))
    )
    assert status == 200 and "errors" not in text, text
    status, text = await post(server, command_body("/profiel", user=user))
    return text


def dms_to(server: RunningServer, user: str) -> list[dict[str, Any]]:
    return [c for c in server.slack.calls_to("chat.postMessage") if c["channel"] == f"D{user}"]


async def test_a_tuesday_to_thursday_member_gets_fridays_prompt_on_tuesday_once(
    server: RunningServer,
) -> None:
    slack = server.slack
    slack.members["C200"] = ["UPART", "UFULL", "UFRI", "UWED"]
    clock = Clock(MONDAY)
    first = server.services
    first.runtime.clock = clock
    shown = await set_work_days(server, "UPART", ["2", "3", "4"])
    assert "dinsdag, woensdag, donderdag" in shown
    await set_work_days(server, "UFRI", ["5"])
    await set_work_days(server, "UWED", ["3"])
    with server.database.session() as session:
        stored = {
            p.member.platform_user_id: p.work_days for p in session.scalars(select(MemberProfile))
        }
    assert stored == {"UPART": "234", "UFRI": "5", "UWED": "3"}

    def plan(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C200")
        spec = NewSchedule("succesvragen", "vrijdag 15:00", delivery="dm", window_hours=96)
        return create_schedule(ctx, channel, spec, None).id

    first.runtime.call_sync(plan)
    scheduler = scheduler_for(first)
    clock.set(at(27, 15, 0, 1))  # Friday
    await scheduler.tick()
    assert len(dms_to(server, "UFULL")) == 1 and len(dms_to(server, "UFRI")) == 1
    assert dms_to(server, "UPART") == []
    clock.set(at(28, 11))  # Saturday
    await scheduler.tick()
    assert dms_to(server, "UPART") == []
    await scheduler.stop()

    # A restart over the weekend: a new process on the same database.
    second = build_services(first.settings)
    try:
        later = Clock(at(30, 9))  # Monday: not a working day for UPART
        second.runtime.clock = later
        survivor = scheduler_for(second)
        await survivor.tick()
        assert dms_to(server, "UPART") == []
        # Monday evening the reminder is due: UFULL gets it; UFRI does not work on Monday.
        later.set(at(30, 21))  # the reminder moment: 80% of the window, 20:48
        await survivor.tick()
        assert len(dms_to(server, "UFULL")) == 2 and len(dms_to(server, "UFRI")) == 1
        later.set(at(31, 7, 59))  # Tuesday, before the start of the day
        await survivor.tick()
        assert dms_to(server, "UPART") == []
        later.set(at(31, 8, 0, 30))
        await survivor.tick()
        await survivor.tick()
        assert len(dms_to(server, "UPART")) == 1
        later.set(at(31, 16, 0, 30))  # the run closes: UFRI's reminder is not sent any more
        await survivor.tick()
        await survivor.tick()
        assert len(dms_to(server, "UPART")) == 1 and len(dms_to(server, "UFRI")) == 1
        with second.database.session() as session:
            deliveries = {d.user_id: d for d in session.scalars(select(PromptDelivery))}
        assert deliveries["UPART"].status == "sent"
        assert deliveries["UPART"].sent_at == at(31, 8, 0, 30)
        assert deliveries["UFRI"].reminder_status == "expired"
        assert deliveries["UFULL"].reminder_status == "sent"
        # Wednesday only: the window closed before their working day; the prompt expired.
        assert deliveries["UWED"].status == "expired" and dms_to(server, "UWED") == []
        await survivor.stop()
    finally:
        second.close()
