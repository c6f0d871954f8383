"""Werksessies end to end on Slack, through the running server with signed requests and the
clock controlled, on both databases: a full incidentmethode with five participants from
three organisations, a write-first round, a restart mid-phase, async reminders, and the
harvest of a session."""

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
from handlers.core.sections import Scope
from handlers.profiles.chat import save_profile
from handlers.werksessie.harvest import WerksessieSource
from storage.models import (
    Casus,
    CasusStatus,
    Member,
    Werksessie,
    WerksessieBijdrage,
    WerksessieParticipant,
    WerksessiePost,
    WerksessieReminder,
    WerksessieStatus,
)
from tests.conftest import RunningServer, make_settings
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import (
    block_action,
    command_body,
    interactive_body,
    signed_headers,
    thread_reply_event,
    view_submission,
)

AMS = ZoneInfo("Europe/Amsterdam")
FORM = "application/x-www-form-urlencoded"
T0 = datetime(2026, 3, 23, 14, 0, tzinfo=AMS).astimezone(UTC)
ORGS = {"UG1": "Gemeente Utrecht", "UG2": "Gemeente Utrecht", "UB1": "Buurtteam Noord",
        "UB2": "Buurtteam Noord", "UJ1": "Jeugdzorg Midden"}  # fmt: skip
INBRENGER = "UG1"
CASUS = {
    "titel": "Moeder weigert hulp bij schulden",
    "situatie": "Een moeder met drie kinderen heeft huurachterstand en wil geen hulp.",
    "knelpunt": "Ze zegt dat eerdere hulpverleners haar niet serieus namen.",
    "onzeker": "Ik weet niet of ik de school moet betrekken.",
    "vraag": "Hoe bouw ik vertrouwen op zonder te pushen?",
    "perspectieven": ["schulden", "jeugd"],
}


async def post(server: RunningServer, body: str, content_type: str = FORM) -> tuple[int, str]:
    headers = signed_headers(body, content_type)
    async with server.http.post(
        f"{server.url}/slack/events", data=body.encode(), headers=headers
    ) as resp:
        return resp.status, await resp.text()


def rows(services: Services, model: type, *where: Any) -> list[Any]:
    with services.database.session() as session:
        return list(session.scalars(select(model).where(*where).order_by(model.id)))


def give_profiles(services: Services) -> None:
    def step(ctx: Any) -> None:
        for user_id, org in ORGS.items():
            member = ctx.repos.members.ensure("slack", user_id)
            save_profile(ctx, member, org, "consulent", ["jeugd"])

    services.runtime.call_sync(step)


async def until(condition: Any, what: str) -> None:
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def bring_in(server: RunningServer) -> Casus:
    slack = server.slack
    opened = len(slack.calls_to("views.open"))
    await post(server, command_body("/casus", "", user=INBRENGER))
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    status, text = await post(
        server, interactive_body(view_submission(view, CASUS, user=INBRENGER))
    )
    assert status == 200 and "errors" not in text, text
    await until(lambda: rows(server.services, Casus)[-1].message_id, "the casus post")
    return rows(server.services, Casus)[-1]


async def set_up(
    server: RunningServer, method: str, mode: str = "live", names: str = "met"
) -> tuple[Casus, Werksessie]:
    """A casus by UG1, a werksessie on it set up by the facilitator, everyone signed up."""
    slack = server.slack
    give_profiles(server.services)
    casus = await bring_in(server)
    opened = len(slack.calls_to("views.open"))
    _, text = await post(server, command_body("/werksessie", str(casus.id), user="UFAC01"))
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    assert view["callback_id"] == "werksessie_start"
    before = len(slack.calls_to("chat.postMessage"))
    status, text = await post(
        server,
        interactive_body(
            view_submission(view, {"methode": method, "vorm": mode, "namen": names}, user="UFAC01")
        ),
    )
    assert status == 200 and "errors" not in text, text
    (card,) = (await slack.wait_for("chat.postMessage", before + 1))[before:]
    assert card["thread_ts"] == casus.message_id
    for block in card["blocks"]:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    (werksessie,) = rows(server.services, Werksessie)
    for user in ORGS:
        await post(
            server,
            interactive_body(block_action("werksessie_doe_mee", str(werksessie.id), user=user)),
        )
    await until(lambda: len(rows(server.services, WerksessieParticipant)) == 6, "sign-ups")
    return casus, werksessie


def phase_posts(slack: Any, since: int = 0) -> list[str]:
    """The headers of the phase cards posted in threads, in order."""
    out = []
    for call in slack.calls_to("chat.postMessage")[since:]:
        for block in call.get("blocks") or []:
            if block.get("type") == "header":
                out.append(block["text"]["text"])
    return out


async def reply(server: RunningServer, casus: Casus, user: str, text: str, n: int) -> None:
    event = thread_reply_event(
        text,
        thread_ts=casus.message_id or "",
        ts=f"1700000500.{n:06d}",
        user=user,
        event_id=f"EvW{n:04d}",
    )
    status, answer = await post(server, json.dumps(event), "application/json")
    assert status == 200, answer


def ephemerals_to(slack: Any, user: str) -> list[str]:
    return [
        json.dumps(call, ensure_ascii=False)
        for call in slack.calls_to("chat.postEphemeral")
        if call.get("user") == user
    ]


async def press(server: RunningServer, action: str, value: str, user: str) -> None:
    status, text = await post(server, interactive_body(block_action(action, value, user=user)))
    assert status == 200, text


async def test_a_full_incidentmethode_session_with_five_people_from_three_organisations(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(T0)
    services.runtime.clock = clock
    scheduler = scheduler_for(services)

    # Someone who is not the inbrenger nor a facilitator cannot start one.
    give_profiles(services)
    casus = await bring_in(server)
    _, text = await post(server, command_body("/werksessie", str(casus.id), user="UJ1"))
    assert "Alleen de inbrenger" in json.loads(text)["text"]
    _, text = await post(server, command_body("/werksessie", "999", user="UFAC01"))
    assert "geen open casus met nummer 999" in json.loads(text)["text"]
    # The inbrenger starts it on their own casus without naming it; the facilitator leads.
    opened = len(slack.calls_to("views.open"))
    await post(server, command_body("/werksessie", "", user=INBRENGER))
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    options = [
        o["value"]
        for o in next(b for b in view["blocks"] if b.get("block_id") == "methode")["element"][
            "options"
        ]
    ]
    assert options == [
        "incidentmethode",
        "vijf_keer_waarom",
        "schrijf_eerst",
        "waarderend_onderzoek",
        "alact",
    ]
    before = len(slack.calls_to("chat.postMessage"))
    await post(
        server,
        interactive_body(
            view_submission(view, {"methode": "incidentmethode", "vorm": "live"}, user=INBRENGER)
        ),
    )
    await slack.wait_for("chat.postMessage", before + 1)
    (werksessie,) = rows(services, Werksessie)
    assert (
        werksessie.begeleider_id
        == rows(services, Member, Member.platform_user_id == INBRENGER)[0].id
    )
    sid = str(werksessie.id)
    for user in [*ORGS, "UB1"]:  # UB1 clicks twice
        await press(server, "werksessie_doe_mee", sid, user)
    await until(lambda: len(rows(services, WerksessieParticipant)) == 5, "sign-ups")
    await until(
        lambda: sum("Je doet al mee" in e for e in ephemerals_to(slack, "UB1")) == 1, "notice"
    )

    # Only the procesbegeleider (or a facilitator) starts; the first card is posted at once.
    await press(server, "werksessie_begin", sid, "UB2")
    await until(
        lambda: any("procesbegeleider" in e for e in ephemerals_to(slack, "UB2")), "refusal"
    )
    start = len(slack.calls_to("chat.postMessage"))
    await press(server, "werksessie_begin", sid, INBRENGER)
    await until(
        lambda: rows(services, WerksessiePost) and rows(services, WerksessiePost)[0].message_id,
        "card 1",
    )
    assert phase_posts(slack, start) == ["Fase 1 van 7: Terugblik op eerdere adviezen"]
    first = slack.calls_to("chat.postMessage")[-1]
    assert first["thread_ts"] == casus.message_id
    assert "iedereen" in json.dumps(first, ensure_ascii=False)
    await press(server, "werksessie_begin", sid, INBRENGER)  # a second click starts nothing

    n = 0
    said: dict[int, list[tuple[str, str]]] = {
        0: [("UG2", "Het vorige advies over huisbezoek heb ik toegepast.")],
        1: [
            (INBRENGER, "Ze liet me niet binnen. Wat ik niet zeker weet: of de school erbij moet.")
        ],
        2: [
            ("UB1", "Wat heb je al geprobeerd?"),
            ("UJ1", "Ik zou de school meteen bellen."),  # not a question: a nudge
            (INBRENGER, "Twee keer gebeld, een keer langs geweest."),  # the inbrenger answers
        ],
        3: [
            ("UB2", "Ik zie wantrouwen door eerdere ervaringen."),
            (INBRENGER, "Dat klopt niet helemaal."),  # the inbrenger listens: a nudge
        ],
        4: [("UJ1", "Begin bij wat zij zelf belangrijk vindt.")],
        5: [(INBRENGER, "Ik neem mee: eerst vertrouwen, dan de school.")],
        6: [("UG2", "Fijn dat de vragen eerst kwamen.")],
    }
    lengths = [5, 10, 15, 10, 10, 10, 5]
    moment = T0
    for phase, minutes in enumerate(lengths):
        for user, text in said[phase]:
            n += 1
            await reply(server, casus, user, text, n)
        if phase == 0:
            # The procesbegeleider skips ahead; someone else cannot.
            await press(server, "werksessie_volgende", f"{sid}:0", "UJ1")
            before = len(slack.calls_to("chat.postMessage"))
            await press(server, "werksessie_volgende", f"{sid}:0", INBRENGER)
            await slack.wait_for("chat.postMessage", before + 1)
            await press(server, "werksessie_volgende", f"{sid}:0", INBRENGER)  # a double click
            await until(lambda: all(p.message_id for p in rows(services, WerksessiePost)), "card 2")
            w = rows(services, Werksessie)[0]
            assert w.phase == 1 and w.phase_ends_at == T0 + timedelta(minutes=10), (
                w.phase,
                w.phase_ends_at,
                w.phase_started_at,
            )
            moment = clock.now
            continue
        if phase == 5:
            # The closing phase card offers the casus's own closing form.
            card = json.dumps(slack.calls_to("chat.postMessage")[-1])
            assert '"action_id": "casus_afronden"' in card
            opened = len(slack.calls_to("views.open"))
            await press(server, "casus_afronden", str(casus.id), INBRENGER)
            view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
            values = {
                "inzicht": "Eerst vertrouwen, dan pas de school.",
                "stap": "Morgen bel ik haar om een afspraak te maken.",
            }
            status, text = await post(
                server, interactive_body(view_submission(view, values, user=INBRENGER))
            )
            assert status == 200 and "errors" not in text, text
        await scheduler.tick()  # nothing is due before the time is up
        await until(lambda: all(p.message_id for p in rows(services, WerksessiePost)), "posts")
        assert rows(services, Werksessie)[0].phase == phase, [
            (p.phase, p.kind, p.created_at) for p in rows(services, WerksessiePost)
        ] + [clock.now, rows(services, Werksessie)[0].phase_ends_at]
        moment = moment + timedelta(minutes=minutes)
        clock.set(moment + timedelta(seconds=1))
        await scheduler.tick()
        await scheduler.tick()  # a second tick posts nothing again
        moment = clock.now

    headers = phase_posts(slack, start)
    cards = [h for h in headers if h.startswith("Fase ")]
    assert cards == [
        "Fase 1 van 7: Terugblik op eerdere adviezen",
        "Fase 2 van 7: Het incident",
        "Fase 3 van 7: Informatieve vragen",
        "Fase 4 van 7: Analyse",
        "Fase 5 van 7: Adviezen",
        "Fase 6 van 7: Reactie van de inbrenger",
        "Fase 7 van 7: Evaluatie",
    ]
    done = rows(services, Werksessie)[0]
    assert done.status == WerksessieStatus.FINISHED and done.phases_done == 7
    posts = Counter((p.phase, p.kind) for p in rows(services, WerksessiePost))
    assert posts == Counter({**{(i, "fase"): 1 for i in range(7)}, (7, "einde"): 1})
    assert "is klaar: 7 van 7 fasen" in json.dumps(in_channels(slack)[-1], ensure_ascii=False)
    await scheduler.tick()
    assert len(phase_posts(slack, start)) == len(headers)

    # Everything is stored with its phase, nothing removed; nudges where they belong.
    members = {m.id: m.platform_user_id for m in rows(services, Member)}
    stored = [
        (b.phase, members[b.author_id], b.text, b.nudged)
        for b in rows(services, WerksessieBijdrage)
    ]
    expected = [(p, u, t) for p in range(7) for u, t in said[p]]
    assert [(p, u, t) for p, u, t, _ in stored] == expected
    assert {(p, u) for p, u, _, nudge in stored if nudge} == {(2, "UJ1"), (3, INBRENGER)}
    assert [s[3] for s in stored if s[3]] == ["geen_vraag", "inbrenger_luistert"]
    assert any("alleen vragen" in e for e in ephemerals_to(slack, "UJ1"))
    assert any("luistert de inbrenger" in e for e in ephemerals_to(slack, INBRENGER))
    assert not any("alleen vragen" in e for e in ephemerals_to(slack, "UB1"))
    assert all(b.private is False and b.message_id for b in rows(services, WerksessieBijdrage))
    # The casus was closed through its own form, linked to the session.
    (closed,) = rows(services, Casus)
    assert closed.status == CasusStatus.CLOSED and closed.next_step.startswith("Morgen bel ik")

    # The harvest counts this session.
    with services.database.session() as session:
        section = WerksessieSource().collect(
            session, Scope(T0 - timedelta(days=1), T0 + timedelta(days=1))
        )
    figures = dict(section.figures)
    assert figures["oogsten.report.werksessie_sessions"] == 1
    assert figures["oogsten.report.werksessie_phases"] == 7
    assert figures["oogsten.report.werksessie_closed"] == 1
    assert figures["oogsten.report.werksessie_methode.incidentmethode"] == 1
    crossings = {item.title: item.lines for item in section.items if "→" in item.title}
    assert crossings == {
        "Buurtteam Noord → Gemeente Utrecht": ("2",),
        "Gemeente Utrecht → Gemeente Utrecht": ("1",),
        "Jeugdzorg Midden → Gemeente Utrecht": ("1",),
    }


def in_channels(slack: Any) -> list[dict[str, Any]]:
    """Posts in channels and threads; not the private messages (such as the reflectieverslag's
    question to each participant once a session is over)."""
    return [c for c in slack.calls_to("chat.postMessage") if not str(c["channel"]).startswith("D")]


def dms(slack: Any, since: int = 0) -> dict[str, int]:
    """Direct messages per person (the stand-in's DM channel for U1 is DU1)."""
    out: Counter[str] = Counter()
    for call in slack.calls_to("chat.postMessage")[since:]:
        if str(call["channel"]).startswith("D"):
            out[call["channel"][1:]] += 1
    return dict(out)


async def start_session(server: RunningServer, werksessie: Werksessie) -> None:
    await press(server, "werksessie_begin", str(werksessie.id), "UFAC01")
    await until(
        lambda: [p.message_id for p in rows(server.services, WerksessiePost)] not in ([], [None]),
        "the first phase card",
    )


async def test_a_write_first_round_reveals_nothing_before_the_phase_ends_then_everything_once(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(T0)
    services.runtime.clock = clock
    scheduler = scheduler_for(services)
    casus, werksessie = await set_up(server, "schrijf_eerst")
    await start_session(server, werksessie)
    clock.set(T0 + timedelta(minutes=5, seconds=1))
    await scheduler.tick()
    card = slack.calls_to("chat.postMessage")[-1]
    assert "Fase 2 van 5: Eerste associaties" in json.dumps(card, ensure_ascii=False)
    value = f"{werksessie.id}:1"
    assert f'"value": "{value}"' in json.dumps(card)

    # The inbrenger listens in this round.
    await press(server, "werksessie_schrijf", value, INBRENGER)
    await until(
        lambda: any("de inbrenger luistert" in e for e in ephemerals_to(slack, INBRENGER)),
        "refusal",
    )

    answers = {
        "UB1": "Ik denk aan schaamte.",
        "UJ1": "Wantrouwen tegen instanties.",
        "UG2": "Een moeder die zich alleen voelt.",
    }
    views: dict[str, dict[str, Any]] = {}
    for user, text in answers.items():
        opened = len(slack.calls_to("views.open"))
        await press(server, "werksessie_schrijf", value, user)
        views[user] = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
        if user == "UJ1":  # a BSN keeps the form open and stores nothing
            _, text_ = await post(
                server,
                interactive_body(
                    view_submission(views[user], {"antwoord": "BSN 111222333"}, user=user)
                ),
            )
            assert json.loads(text_)["response_action"] == "errors"
        status, answer = await post(
            server, interactive_body(view_submission(views[user], {"antwoord": text}, user=user))
        )
        assert status == 200 and "errors" not in answer, answer
    private = rows(services, WerksessieBijdrage, WerksessieBijdrage.private.is_(True))
    assert sorted(b.text for b in private) == sorted(answers.values())
    assert {b.phase for b in private} == {1}
    posted = json.dumps(slack.calls_to("chat.postMessage"), ensure_ascii=False)
    assert not any(text in posted for text in answers.values())  # nothing shown yet
    assert "111222333" not in posted and "111222333" not in json.dumps(
        [b.text for b in rows(services, WerksessieBijdrage)]
    )

    # The phase ends: one post with every answer, with names; then the next card.
    before = len(slack.calls_to("chat.postMessage"))
    clock.set(T0 + timedelta(minutes=10, seconds=2))
    await scheduler.tick()
    await scheduler.tick()
    new = slack.calls_to("chat.postMessage")[before:]
    assert len(new) == 2
    reveal = json.dumps(new[0], ensure_ascii=False)
    assert "Wat iedereen schreef: Eerste associaties" in reveal
    for user, text in answers.items():
        assert text in reveal and f"<@{user}>" in reveal
    assert "Fase 3 van 5: Verhelderende vragen" in json.dumps(new[1], ensure_ascii=False)
    assert new[0]["thread_ts"] == new[1]["thread_ts"] == casus.message_id

    # An answer sent after the round ended is not taken; the form stays open with what was typed.
    _, late = await post(
        server,
        interactive_body(view_submission(views["UB1"], {"antwoord": "Nog iets."}, user="UB1")),
    )
    assert "voorbij" in json.loads(late)["errors"]["antwoord"]
    assert len(rows(services, WerksessieBijdrage, WerksessieBijdrage.private.is_(True))) == 3
    kinds = Counter((p.phase, p.kind) for p in rows(services, WerksessiePost))
    assert kinds == Counter({(0, "fase"): 1, (1, "fase"): 1, (1, "onthulling"): 1, (2, "fase"): 1})


async def test_a_restart_mid_phase_resumes_without_a_duplicate_phase_card(
    server: RunningServer, database_target: Any
) -> None:
    from handlers.core.messaging import outbox_key
    from handlers.werksessie import chat

    first, slack = server.services, server.slack
    clock = Clock(T0)
    first.runtime.clock = clock
    _casus, werksessie = await set_up(server, "vijf_keer_waarom")
    await start_session(server, werksessie)

    # Phase 1 is over; the process that moved the session posted card 2 and died before it
    # recorded the post (its claim is still in the row).
    clock.set(T0 + timedelta(minutes=5, seconds=1))

    def move(ctx: Any) -> list[int]:
        found = chat.repo(ctx).get(werksessie.id)
        assert found is not None
        return chat.advance(ctx, found, 0, claim=True)

    (post_id,) = first.runtime.call_sync(move)
    item = first.runtime.call_sync(lambda ctx: chat.post_content(ctx, post_id))
    sent = await first.messengers.get("slack").post(
        item.place, item.card, item.thread_id, key=outbox_key(chat.POST_RECORD, post_id)
    )
    before = len(slack.calls_to("chat.postMessage"))

    # A new process on the same database, a minute later.
    settings = make_settings(database_target.url, SLACK_API_URL=slack.url)
    second = build_services(settings)
    survivor = None
    try:
        later = Clock(T0 + timedelta(minutes=6, seconds=1))
        second.runtime.clock = later
        survivor = scheduler_for(second)
        await survivor.tick()
        await survivor.tick()
        assert len(slack.calls_to("chat.postMessage")) == before  # found, not posted again
        (recorded,) = rows(second, WerksessiePost, WerksessiePost.id == post_id)
        assert recorded.message_id == sent.message_id and recorded.claimed_at is None
        # It resumes on time: phase 2 (15 minutes) ends at 20:01 after the start of phase 2.
        later.set(T0 + timedelta(minutes=20))
        await survivor.tick()
        assert len(slack.calls_to("chat.postMessage")) == before
        later.set(T0 + timedelta(minutes=20, seconds=2))
        await survivor.tick()
        await survivor.tick()
        headers = phase_posts(slack)
        assert [h for h in headers if h.startswith("Fase ")] == [
            "Fase 1 van 3: Het vraagstuk",
            "Fase 2 van 3: Waarom?",
            "Fase 3 van 3: De wortel",
        ]
    finally:
        if survivor is not None:
            await survivor.stop()  # releases the leader connection before the pool closes
        second.close()


async def test_an_async_session_sends_one_reminder_per_phase_to_who_did_not_take_part(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(T0)
    services.runtime.clock = clock
    scheduler = scheduler_for(services)
    casus, werksessie = await set_up(server, "waarderend_onderzoek", mode="async")
    await start_session(server, werksessie)
    card = json.dumps(slack.calls_to("chat.postMessage")[-1], ensure_ascii=False)
    assert "Fase 1 van 4: Ontdekken" in card and "woensdag 25 maart om 14:00" in card  # two days
    await reply(server, casus, "UB1", "Vorige maand lukte het met een vaste contactpersoon.", 1)
    await until(lambda: rows(services, WerksessieBijdrage), "the bijdrage")

    everyone = {"UFAC01", *ORGS}
    before = len(slack.calls_to("chat.postMessage"))
    clock.set(T0 + timedelta(hours=23))
    await scheduler.tick()
    assert dms(slack, before) == {}  # not halfway yet
    clock.set(T0 + timedelta(days=1, seconds=1))
    await scheduler.tick()
    await scheduler.tick()
    assert dms(slack, before) == {user: 1 for user in everyone - {"UB1"}}
    text = json.dumps(slack.calls_to("chat.postMessage")[-1], ensure_ascii=False)
    assert "Herinnering" in text and "Ontdekken" in text

    # The next phase (one day): card 2 at its time, and one reminder each halfway.
    before = len(slack.calls_to("chat.postMessage"))
    clock.set(T0 + timedelta(days=2, seconds=1))
    await scheduler.tick()
    assert phase_posts(slack, before) == ["Fase 2 van 4: Dromen"]
    clock.set(T0 + timedelta(days=2, hours=12, seconds=2))
    await scheduler.tick()
    await scheduler.tick()
    assert dms(slack, before) == {user: 1 for user in everyone}
    reminders = Counter(r.phase for r in rows(services, WerksessieReminder))
    assert reminders == Counter({0: 5, 1: 6})
    assert all(r.status == "sent" for r in rows(services, WerksessieReminder))


async def test_the_procesbegeleider_extends_pauses_resumes_and_stops(
    server: RunningServer,
) -> None:
    services, slack = server.services, server.slack
    clock = Clock(T0)
    services.runtime.clock = clock
    scheduler = scheduler_for(services)
    _casus, werksessie = await set_up(server, "vijf_keer_waarom")
    sid = str(werksessie.id)
    await start_session(server, werksessie)

    def current() -> Werksessie:
        return rows(services, Werksessie)[0]

    await press(server, "werksessie_verleng", f"{sid}:0", "UB1")  # not the leader
    await press(server, "werksessie_verleng", f"{sid}:0", "UFAC01")
    await until(lambda: current().phase_ends_at == T0 + timedelta(minutes=10), "extended")
    clock.set(T0 + timedelta(minutes=6))
    await scheduler.tick()
    assert current().phase == 0  # the extension holds

    clock.set(T0 + timedelta(minutes=7))
    await press(server, "werksessie_pauze", sid, "UFAC01")
    await until(lambda: current().status == WerksessieStatus.PAUSED, "paused")
    assert current().paused_left_seconds == 180
    clock.set(T0 + timedelta(minutes=30))
    await scheduler.tick()
    assert current().phase == 0  # a paused phase does not end
    await press(server, "werksessie_pauze", sid, "UFAC01")  # resume with the time left
    await until(lambda: current().status == WerksessieStatus.RUNNING, "resumed")
    assert current().phase_ends_at == T0 + timedelta(minutes=33)
    clock.set(T0 + timedelta(minutes=33, seconds=1))
    await scheduler.tick()
    assert current().phase == 1

    before = len(in_channels(slack))
    await press(server, "werksessie_stop", sid, "UB1")  # not the leader
    await press(server, "werksessie_stop", sid, "UFAC01")
    await until(lambda: len(in_channels(slack)) == before + 1, "the closing post")
    assert "is gestopt na 1 van 3 fasen" in json.dumps(in_channels(slack)[-1], ensure_ascii=False)
    assert current().status == WerksessieStatus.STOPPED
    clock.set(T0 + timedelta(hours=2))
    await scheduler.tick()
    await scheduler.tick()
    assert len(in_channels(slack)) == before + 1
    refusals = [e for e in ephemerals_to(slack, "UB1") if "Alleen de procesbegeleider" in e]
    assert len(refusals) == 2
