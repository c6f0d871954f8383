"""Praktijkvoorbeelden end to end on Slack, through the running server with signed requests and
the clock controlled, on both databases: a practice shared in four parts, translated by three
members (one kept private for the facilitators), the 0-10 distribution in the harvest, and the
follow-up of the steps after N weeks: once, across a restart, and answered."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from sqlalchemy import select

from bot.services import Services, build_services
from handlers.casus.anonymous import ANONYMOUS_USER_ID
from handlers.core.messaging import outbox_key
from handlers.core.sections import Scope
from handlers.praktijkvoorbeeld.harvest import PraktijkSource
from handlers.praktijkvoorbeeld.queries import FOLLOWUP
from storage.models import Member, PraktijkVertaling, PraktijkVervolg, Praktijkvoorbeeld
from tests.conftest import RunningServer, make_settings
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import (
    block_action,
    command_body,
    interactive_body,
    signed_headers,
    view_submission,
)

AMS = ZoneInfo("Europe/Amsterdam")
FORM = "application/x-www-form-urlencoded"
T0 = datetime(2026, 3, 23, 10, 0, tzinfo=AMS).astimezone(UTC)
AUTHOR = "UAUTH1"
PRACTICE = {
    "titel": "Keukentafelgesprek met de hele familie",
    "doel": "Gezinnen met schulden vroeg bereiken; zij vroegen om één plan in plaats van vijf.",
    "veranderd": "Minder uitval: gezinnen komen terug naar het tweede gesprek.",
    "succesfactoren": "Eén vast gezicht en de tijd nemen.",
    "knelpunten": "Agenda's van vijf organisaties op één lijn krijgen.",
    "proces": "Eerst een kennismaking thuis, dan één gesprek met alle betrokken hulpverleners.",
    "tips": "Begin klein: één wijk, één team.",
}
# (user, score, what they take along, step for tomorrow, share)
ANSWERS = [
    ("UB1", "7", "Het vaste gezicht", "Morgen plan ik een keukentafelgesprek.", "draad"),
    ("UC1", "4", "De kennismaking thuis", "Ik bel de schuldhulp om af te stemmen.", "draad"),
    ("UD1", "7", "Eén plan", "Ik vraag mijn teamleider om tijd.", "prive"),
]


async def post(server: RunningServer, body: str, content_type: str = FORM) -> tuple[int, str]:
    headers = signed_headers(body, content_type)
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=headers
    ) as resp:
        return resp.status, await resp.text()


def rows(services: Services, model: type, *where: Any) -> list[Any]:
    with services.database.session() as session:
        return list(session.scalars(select(model).where(*where).order_by(model.id)))


async def until(condition: Any, what: str) -> None:
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def valid(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


async def share(server: RunningServer, values: dict[str, str] | None = None) -> Praktijkvoorbeeld:
    slack = server.slack
    opened = len(slack.calls_to("views.open"))
    before = len(slack.calls_to("chat.postMessage"))
    status, _ = await post(server, command_body("/praktijkvoorbeeld", "", user=AUTHOR))
    assert status == 200
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    assert view["callback_id"] == "praktijk_delen"
    status, text = await post(
        server, interactive_body(view_submission(view, values or PRACTICE, user=AUTHOR))
    )
    assert status == 200 and "errors" not in text, text
    (card,) = (await slack.wait_for("chat.postMessage", before + 1))[before:]
    valid(card["blocks"])
    await until(lambda: rows(server.services, Praktijkvoorbeeld)[-1].message_id, "the card post")
    practice = rows(server.services, Praktijkvoorbeeld)[-1]
    return practice


async def translate(
    server: RunningServer,
    practice: Praktijkvoorbeeld,
    user: str,
    values: dict[str, str],
    *,
    expect_form: bool = True,
) -> tuple[str, str]:
    """Presses the card's button as ``user`` and submits the form; the submission's body (to
    deliver it again) and the answer."""
    slack = server.slack
    opened = len(slack.calls_to("views.open"))
    status, _ = await post(
        server,
        interactive_body(
            block_action(
                "praktijk_vertaal",
                str(practice.id),
                user=user,
                message_ts=practice.message_id or "",
            )
        ),
    )
    assert status == 200
    if not expect_form:
        await asyncio.sleep(0.2)
        assert len(slack.calls_to("views.open")) == opened
        return "", ""
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    assert view["callback_id"] == "praktijk_vertalen"
    valid(view["blocks"])
    body = interactive_body(view_submission(view, values, user=user))
    status, text = await post(server, body)
    assert status == 200, text
    return body, text


def answer_values(score: str, take: str, step: str, share_to: str) -> dict[str, str]:
    return {
        "score": score,
        "meenemen": take,
        "niet_meenemen": "De grote overleggen; daar hebben wij geen tijd voor.",
        "nodig": "Een vaste contactpersoon bij de gemeente.",
        "stap": step,
        "delen": share_to,
    }


def thread_posts(server: RunningServer, practice: Praktijkvoorbeeld) -> list[dict[str, Any]]:
    return [
        c
        for c in server.slack.calls_to("chat.postMessage")
        if c.get("thread_ts") == practice.message_id
    ]


def dms(server: RunningServer) -> Counter[str]:
    return Counter(
        str(c["channel"])[1:]
        for c in server.slack.calls_to("chat.postMessage")
        if str(c["channel"]).startswith("D")
    )


async def test_a_practice_translated_by_three_members_harvested_and_followed_up(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(T0)
    services.runtime.clock = clock

    practice = await share(server)
    assert practice.title == PRACTICE["titel"] and practice.tips == PRACTICE["tips"]
    (card,) = [c for c in slack.calls_to("chat.postMessage") if c.get("channel") == "C100"]
    shown = json.dumps(card["blocks"], ensure_ascii=False)
    parts = ["Doel en behoefte", "Wat veranderde", "Succesfactoren", "Knelpunten", "Het proces"]
    for part in [*parts, "Tips", PRACTICE["proces"], "Vertaal naar mijn praktijk"]:
        assert part in shown, part

    # The author does not translate their own practice.
    await translate(server, practice, AUTHOR, {}, expect_form=False)
    assert "eigen praktijkvoorbeeld" in slack.posted_texts()

    bodies = {}
    for user, score, take, step, share_to in ANSWERS:
        bodies[user], _ = await translate(
            server, practice, user, answer_values(score, take, step, share_to)
        )
    await until(lambda: len(thread_posts(server, practice)) == 2, "two shared answers")
    members = {m.id: m.platform_user_id for m in rows(services, Member)}
    stored = rows(services, PraktijkVertaling)
    assert [(members[t.member_id], t.score, t.shared) for t in stored] == [
        ("UB1", 7, True),
        ("UC1", 4, True),
        ("UD1", 7, False),
    ]
    await until(
        lambda: all(t.message_id for t in rows(services, PraktijkVertaling) if t.shared),
        "the thread posts recorded",
    )
    posts = thread_posts(server, practice)
    for thread_post in posts:
        valid(thread_post["blocks"])
    in_thread = json.dumps(posts, ensure_ascii=False)
    assert "<@UB1>" in in_thread and "7/10" in in_thread and "Het vaste gezicht" in in_thread
    assert "<@UC1>" in in_thread and "4/10" in in_thread
    # The card counts the translations (not who, nor what the private one said).
    await until(lambda: len(slack.calls_to("chat.update")) == 3, "the card updated thrice")
    updated = slack.calls_to("chat.update")[-1]
    assert updated["ts"] == practice.message_id
    valid(updated["blocks"])
    assert "3 collega's vertaalden dit al naar hun eigen praktijk." in json.dumps(
        updated["blocks"], ensure_ascii=False
    )
    # The private answer reached no channel.
    assert "Eén plan" not in slack.posted_texts()
    assert "Ik vraag mijn teamleider" not in slack.posted_texts()

    # The same submission delivered again, and a second press: stored once, posted once.
    before = len(slack.calls_to("chat.postMessage"))
    status, text = await post(server, bodies["UB1"])
    assert status == 200 and "errors" not in text, text
    await translate(server, practice, "UB1", {}, expect_form=False)
    await asyncio.sleep(0.2)
    assert len(rows(services, PraktijkVertaling)) == 3
    assert len(slack.calls_to("chat.postMessage")) == before
    assert "al vertaald" in slack.posted_texts()

    # The harvest: the distribution of the scores, what was taken along, the steps.
    scope = Scope(T0 - timedelta(days=1), T0 + timedelta(days=1))
    with services.database.session() as session:
        section = PraktijkSource().collect(session, scope)
    figures = dict(section.figures)
    assert figures["oogsten.report.praktijk_shared"] == 1
    assert figures["oogsten.report.praktijk_answers"] == 3
    assert figures["oogsten.report.praktijk_steps"] == 3
    assert figures["oogsten.report.praktijk_followed"] == 0
    (item,) = section.items
    assert item.title == PRACTICE["titel"]
    lines = list(item.lines)
    assert lines[0] == "Scores 0-10 (3 antwoorden, gemiddeld 6,0):"
    assert lines[1:5] == [
        " 4 │" + "█" * 10 + " 1",
        " 5 │ 0",
        " 6 │ 0",
        " 7 │" + "█" * 20 + " 2",
    ]
    assert "Meegenomen: Eén plan" in lines  # private answers are for the facilitators
    assert "Stap: Morgen plan ik een keukentafelgesprek." in lines
    assert lines[-1] == "3 stappen voor morgen, 0 nagevraagd, 0 vertelden hoe het ging"

    # N weeks later (here 4): each step gets one DM, "hoe ging je stap?".
    scheduler = scheduler_for(services, praktijk_followup_after=timedelta(weeks=4))
    clock.set(T0 + timedelta(weeks=4) - timedelta(minutes=1))
    await scheduler.tick()
    assert dms(server) == Counter()
    clock.set(T0 + timedelta(weeks=4, minutes=1))
    await scheduler.tick()
    await scheduler.tick()
    assert dms(server) == Counter({"UB1": 1, "UC1": 1, "UD1": 1})
    followups = rows(services, PraktijkVervolg)
    assert [(f.status, f.claimed_at) for f in followups] == [("sent", None)] * 3
    dm = next(c for c in slack.calls_to("chat.postMessage") if c["channel"] == "DUB1")
    valid(dm["blocks"])
    assert "Hoe ging je stap?" in json.dumps(dm, ensure_ascii=False)
    assert "Morgen plan ik een keukentafelgesprek." in json.dumps(dm, ensure_ascii=False)
    button = next(e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert button["action_id"] == "praktijk_vervolg"

    # Someone else's button does nothing; the person answers through the form.
    opened = len(slack.calls_to("views.open"))
    await post(
        server,
        interactive_body(block_action("praktijk_vervolg", button["value"], user="UC1")),
    )
    await asyncio.sleep(0.2)
    assert len(slack.calls_to("views.open")) == opened
    await post(
        server,
        interactive_body(
            block_action("praktijk_vervolg", button["value"], user="UB1", channel="DUB1")
        ),
    )
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    assert view["callback_id"] == "praktijk_vervolg"
    status, text = await post(
        server,
        interactive_body(
            view_submission(
                view,
                {"hoe": "Goed: de moeder kwam, met haar zus.", "geleerd": "Vraag wie er mee mag."},
                user="UB1",
            )
        ),
    )
    assert status == 200 and "errors" not in text, text
    told = rows(services, PraktijkVervolg, PraktijkVervolg.id == int(button["value"]))[0]
    assert told.how_it_went == "Goed: de moeder kwam, met haar zus."
    assert told.answered_at == clock.now

    # A later tick sends nothing again; the harvest counts the follow-ups.
    clock.set(T0 + timedelta(weeks=5))
    await scheduler.tick()
    assert dms(server) == Counter({"UB1": 1, "UC1": 1, "UD1": 1})
    with services.database.session() as session:
        section = PraktijkSource().collect(
            session, Scope(T0 - timedelta(days=1), T0 + timedelta(weeks=6))
        )
    figures = dict(section.figures)
    assert figures["oogsten.report.praktijk_followed"] == 3
    assert figures["oogsten.report.praktijk_told"] == 1
    lines = list(section.items[0].lines)
    assert (
        "Stap: Morgen plan ik een keukentafelgesprek. "
        "(nagevraagd: Goed: de moeder kwam, met haar zus.)"
    ) in lines
    assert lines[-1] == "3 stappen voor morgen, 3 nagevraagd, 1 vertelden hoe het ging"
    # A harvest of the follow-up weeks alone: the practice is there for its follow-ups; the
    # key figures count only what happened in those weeks.
    with services.database.session() as session:
        section = PraktijkSource().collect(
            session, Scope(T0 + timedelta(weeks=4), T0 + timedelta(weeks=6))
        )
    assert dict(section.figures) == {
        "oogsten.report.praktijk_shared": 0,
        "oogsten.report.praktijk_answers": 0,
        "oogsten.report.praktijk_steps": 0,
        "oogsten.report.praktijk_followed": 3,
        "oogsten.report.praktijk_told": 1,
    }
    assert [item.title for item in section.items] == [PRACTICE["titel"]]


async def test_the_report_of_oogsten_shows_the_practice_with_its_chart(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    services.runtime.clock = Clock(T0)
    practice = await share(server)
    for user, score, take, step, share_to in ANSWERS:
        await translate(server, practice, user, answer_values(score, take, step, share_to))
    await until(lambda: len(rows(services, PraktijkVertaling)) == 3, "three answers")
    respond = slack.response_base + "oogst"
    status, text = await post(
        server,
        command_body("/oogsten", "2026-03-16..2026-03-29", user="UFAC01", response_url=respond),
    )
    assert status == 200, text
    await slack.wait_for("files.completeUploadExternal", 2)
    page = slack.uploads["F00000001"].decode("utf-8")
    assert "Praktijkvoorbeelden" in page and "Keukentafelgesprek met de hele familie" in page
    assert "Scores 0-10 (3 antwoorden, gemiddeld 6,0):" in page
    assert " 7 │" + "█" * 20 + " 2" in page
    assert "Vertaald naar de eigen praktijk: 3" in page


async def test_identifiers_are_refused_and_nothing_is_stored(server: RunningServer) -> None:
    slack = server.slack
    opened = len(slack.calls_to("views.open"))
    await post(server, command_body("/praktijkvoorbeeld", "", user=AUTHOR))
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    values = {**PRACTICE, "proces": "Bij mevrouw op Dorpsstraat 12, 1234 AB, BSN 111222333."}
    status, text = await post(server, interactive_body(view_submission(view, values, user=AUTHOR)))
    assert status == 200
    errors = json.loads(text)["errors"]
    assert set(errors) == {"proces"}
    assert "111222333" not in text
    assert rows(server.services, Praktijkvoorbeeld) == []

    practice = await share(server)
    _, text = await translate(
        server,
        practice,
        "UB1",
        answer_values("8", "Bel 06-12345678 voor info", "Morgen.", "draad"),
    )
    assert set(json.loads(text)["errors"]) == {"meenemen"}
    _, text = await translate(server, practice, "UC1", {"delen": "draad", "meenemen": "x"})
    assert set(json.loads(text)["errors"]) == {"score"}
    assert rows(server.services, PraktijkVertaling) == []
    assert "111222333" not in slack.posted_texts() and "12345678" not in slack.posted_texts()


async def test_a_follow_up_sent_by_a_process_that_died_is_not_sent_again(
    server: RunningServer, database_target: Any
) -> None:
    first, slack = server.services, server.slack
    first.runtime.clock = Clock(T0)
    practice = await share(server)
    for user, score, take, step, share_to in ANSWERS[:2]:
        await translate(server, practice, user, answer_values(score, take, step, share_to))
    await until(lambda: len(rows(first, PraktijkVertaling)) == 2, "two answers")

    # The first process planned the follow-ups, claimed UB1's and sent it, then died before
    # it recorded the DM.
    from handlers.praktijkvoorbeeld import engine

    first.runtime.clock = Clock(T0 + timedelta(weeks=4, minutes=1))
    first.runtime.call_sync(engine.plan_followups, timedelta(weeks=4))
    first.runtime.call_sync(engine.plan_followups, timedelta(weeks=4))  # no second row
    followups = rows(first, PraktijkVervolg)
    assert len(followups) == 2
    item = next(i for i in first.runtime.call_sync(engine.pending_followups) if i.user_id == "UB1")

    def claim(ctx: Any) -> None:
        from storage import claims

        assert claims.claim(ctx.session, FOLLOWUP, item.row_id, "pending", ctx.now(),
                            timedelta(seconds=20))  # fmt: skip

    first.runtime.call_sync(claim)
    await first.messengers.get("slack").direct(
        "UB1", item.card, key=outbox_key(FOLLOWUP.name, item.row_id)
    )
    assert dms(server) == Counter({"UB1": 1})

    # A new process on the same database, a minute later (the claim has expired).
    settings = make_settings(database_target.url, SLACK_API_URL=slack.url)
    second = build_services(settings)
    survivor = None
    try:
        second.runtime.clock = Clock(T0 + timedelta(weeks=4, minutes=2))
        survivor = scheduler_for(second, praktijk_followup_after=timedelta(weeks=4))
        await survivor.tick()
        await survivor.tick()
        assert dms(server) == Counter({"UB1": 1, "UC1": 1})
        assert [f.status for f in rows(second, PraktijkVervolg)] == ["sent", "sent"]
    finally:
        if survivor is not None:
            await survivor.stop()
        second.close()


async def answer_followup(server: RunningServer, user: str, text: str) -> None:
    slack = server.slack
    dm = next(c for c in slack.calls_to("chat.postMessage") if c["channel"] == f"D{user}")
    button = next(e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"])
    opened = len(slack.calls_to("views.open"))
    await post(
        server,
        interactive_body(
            block_action("praktijk_vervolg", button["value"], user=user, channel=f"D{user}")
        ),
    )
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    status, answer = await post(
        server, interactive_body(view_submission(view, {"hoe": text}, user=user))
    )
    assert status == 200 and "errors" not in answer, answer


async def my_data(server: RunningServer, user: str) -> dict[str, Any]:
    slack = server.slack
    uploads = len(slack.calls_to("files.completeUploadExternal"))
    status, _ = await post(server, command_body("/mijn-gegevens", "", user=user))
    assert status == 200
    await slack.wait_for("files.completeUploadExternal", uploads + 1)
    content = slack.uploads[f"F{len(slack.uploads):08d}"]
    return dict(json.loads(content))


async def erase(server: RunningServer, user: str) -> None:
    status, _ = await post(
        server, interactive_body(block_action("privacy_verwijder_ja", "", user=user))
    )
    assert status == 200
    await until(
        lambda: not rows(server.services, Member, Member.platform_user_id == user), "erasure"
    )


async def test_practices_and_answers_in_the_export_erasure_and_retention(
    server: RunningServer,
) -> None:
    """AVG: the export holds one's practices, translations (private ones too) and what one
    told about the step; erasure removes the translations and follow-ups and keeps a shared
    practice without a name, with the answers of others; retention replaces the texts."""
    from handlers.core.personal import Expired
    from handlers.features import build_router
    from tests.bot.test_privacy_anonymous import everything_stored

    services = server.services
    clock = Clock(T0)
    services.runtime.clock = clock
    practice = await share(server)
    for user, score, take, step, share_to in ANSWERS:
        await translate(server, practice, user, answer_values(score, take, step, share_to))
    await until(lambda: len(rows(services, PraktijkVertaling)) == 3, "three answers")
    scheduler = scheduler_for(services, praktijk_followup_after=timedelta(weeks=4))
    clock.set(T0 + timedelta(weeks=4, minutes=1))
    await scheduler.tick()
    await answer_followup(server, "UD1", "Mijn teamleider gaf me twee uur per week.")

    exported = await my_data(server, "UD1")
    (mine,) = exported["praktijk_vertalingen"]
    assert (mine["score"], mine["shared"], mine["take_along"]) == (7, False, "Eén plan")
    assert mine["followup"]["how_it_went"] == "Mijn teamleider gaf me twee uur per week."
    assert exported["praktijkvoorbeelden"] == []
    assert "Het vaste gezicht" not in json.dumps(exported, ensure_ascii=False)
    authored = await my_data(server, AUTHOR)
    assert [p["title"] for p in authored["praktijkvoorbeelden"]] == [PRACTICE["titel"]]
    assert authored["praktijk_vertalingen"] == []

    await erase(server, "UD1")
    stored = everything_stored(server)
    for gone in ("UD1", "Eén plan", "Ik vraag mijn teamleider", "twee uur per week"):
        assert gone not in stored, gone
    assert len(rows(services, PraktijkVervolg)) == 2
    await erase(server, AUTHOR)
    stored = everything_stored(server)
    assert AUTHOR not in stored and PRACTICE["proces"] in stored  # kept, without a name
    assert "Het vaste gezicht" in stored  # the answers of others keep their context
    (kept,) = rows(services, Praktijkvoorbeeld)
    anonymous = {m.id: m.platform_user_id for m in rows(services, Member)}[kept.author_id]
    assert anonymous == ANONYMOUS_USER_ID

    parts = build_router().registry.personal_data
    with services.database.session() as session:
        counts = parts.purge(
            session, Expired(T0 + timedelta(weeks=10), removed="[verlopen]", title="[verlopen]")
        )
    assert counts["answers"] >= 2
    stored = everything_stored(server)
    for gone in (PRACTICE["proces"], PRACTICE["titel"], "Het vaste gezicht", "keukentafelgesprek."):
        assert gone not in stored, gone
    assert [t.score for t in rows(services, PraktijkVertaling)] == [7, 4]  # the scores stay


async def test_someone_who_snoozes_gets_the_follow_up_when_the_snooze_is_over(
    server: RunningServer,
) -> None:
    services = server.services
    clock = Clock(T0)
    services.runtime.clock = clock
    practice = await share(server)
    for user, score, take, step, share_to in ANSWERS[:2]:
        await translate(server, practice, user, answer_values(score, take, step, share_to))
    await until(lambda: len(rows(services, PraktijkVertaling)) == 2, "two answers")
    _, text = await post(server, command_body("/reflectie", "snooze 2026-04-23", user="UC1"))
    assert "donderdag 23 april 2026" in json.loads(text)["text"]

    scheduler = scheduler_for(services, praktijk_followup_after=timedelta(weeks=4))
    clock.set(T0 + timedelta(weeks=4, minutes=1))  # 20 April
    await scheduler.tick()
    assert dms(server) == Counter({"UB1": 1})
    clock.set(datetime(2026, 4, 24, 9, 0, tzinfo=AMS))  # Friday, a working day
    await scheduler.tick()
    await scheduler.tick()
    assert dms(server) == Counter({"UB1": 1, "UC1": 1})


async def test_two_processes_sending_the_same_follow_ups_send_each_once(
    server: RunningServer, database_target: Any
) -> None:
    """Two processes (a replica, ``leerkring schedule run``) that both found the same owed
    follow-ups: the claim lets one of them send each DM."""
    from handlers.praktijkvoorbeeld import engine

    first, slack = server.services, server.slack
    first.runtime.clock = Clock(T0)
    practice = await share(server)
    for user, score, take, step, share_to in ANSWERS:
        await translate(server, practice, user, answer_values(score, take, step, share_to))
    await until(lambda: len(rows(first, PraktijkVertaling)) == 3, "three answers")
    second = build_services(make_settings(database_target.url, SLACK_API_URL=slack.url))
    try:
        later = Clock(T0 + timedelta(weeks=4, minutes=1))
        first.runtime.clock = second.runtime.clock = later
        engines = [scheduler_for(first), scheduler_for(second)]
        for services in (first, second):
            services.runtime.call_sync(engine.plan_followups, timedelta(weeks=4))
        owed = [s.runtime.call_sync(engine.pending_followups) for s in (first, second)]
        assert [len(items) for items in owed] == [3, 3]
        sent = await asyncio.gather(
            *(engine.send_followups(e, items) for e, items in zip(engines, owed, strict=True))
        )
        assert sum(sent) == 3
        assert dms(server) == Counter({"UB1": 1, "UC1": 1, "UD1": 1})
        assert [f.status for f in rows(first, PraktijkVervolg)] == ["sent"] * 3
    finally:
        second.close()


async def test_a_card_posted_but_never_recorded_is_found_and_one_never_posted_removed(
    server: RunningServer,
) -> None:
    """The process (or the database) went away between posting the card and recording it: the
    scheduler finds the card by its key and records it, so it is not posted again and can be
    answered; a practice whose card never arrived is removed after a while."""
    from handlers.core.events import Place
    from handlers.praktijkvoorbeeld import chat

    services, slack = server.services, server.slack
    clock = Clock(T0)
    services.runtime.clock = clock

    def store(ctx: Any) -> int:
        from handlers.praktijkvoorbeeld.queries import praktijk_repo

        channel = ctx.repos.channels.ensure("slack", "C100", "T1", "casuistiek")
        author = ctx.repos.members.ensure("slack", AUTHOR)
        return praktijk_repo(ctx.session).add(channel, author, dict(PRACTICE), ctx.now())

    posted_id, lost_id = services.runtime.call_sync(store), services.runtime.call_sync(store)
    card = services.runtime.call_sync(
        lambda ctx: chat.practice_card(ctx.session.get(Praktijkvoorbeeld, posted_id), ctx.texts)
    )
    sent = await services.messengers.get("slack").post(
        Place("slack", "C100", "T1"), card, key=outbox_key(chat.RECORD_PRACTICE, posted_id)
    )
    before = len(slack.calls_to("chat.postMessage"))

    scheduler = scheduler_for(services)
    clock.set(T0 + timedelta(minutes=2))
    await scheduler.tick()
    assert len(slack.calls_to("chat.postMessage")) == before
    found = rows(services, Praktijkvoorbeeld, Praktijkvoorbeeld.id == posted_id)[0]
    assert found.message_id == sent.message_id
    lost = rows(services, Praktijkvoorbeeld, Praktijkvoorbeeld.id == lost_id)[0]
    assert lost.message_id is None  # not given up yet
    clock.set(T0 + timedelta(minutes=16))
    await scheduler.tick()
    assert [p.id for p in rows(services, Praktijkvoorbeeld)] == [posted_id]
    _, text = await translate(server, found, "UB1", answer_values("6", "x", "", "draad"))
    assert "errors" not in text
    await until(lambda: thread_posts(server, found), "the answer in the recovered thread")


async def test_a_card_the_channel_refuses_is_not_stored_and_the_person_is_told(
    server: RunningServer,
) -> None:
    slack = server.slack
    opened = len(slack.calls_to("views.open"))
    await post(server, command_body("/praktijkvoorbeeld", "", user=AUTHOR))
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    slack.fail["chat.postMessage"] = "not_in_channel"
    status, text = await post(
        server, interactive_body(view_submission(view, PRACTICE, user=AUTHOR))
    )
    assert status == 200
    answer = json.loads(text)  # the form stays open and says why
    assert answer["response_action"] == "errors" and "/invite" in answer["errors"]["titel"]
    assert rows(server.services, Praktijkvoorbeeld) == []
