"""The four other methods end to end on Slack, through the running server with signed
requests and the clock controlled, on both databases: vijf keer waarom (its chain grows in one
message, and the lead is handed to a participant), Balint-stijl schrijf eerst (two private
rounds revealed once each), waarderend onderzoek, and ALACT (its *uitproberen* plans the next
cycle: one private message to the inbrenger at its time, also after a restart)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import Block as SlackBlock
from sqlalchemy import select

from bot.services import build_services
from storage.models import (
    Casus,
    CasusStatus,
    Member,
    PostedMessage,
    Werksessie,
    WerksessieBijdrage,
    WerksessieFollowup,
    WerksessiePost,
    WerksessieReminder,
    WerksessieStatus,
)
from tests.bot.test_werksessie import (
    INBRENGER,
    T0,
    ephemerals_to,
    in_channels,
    phase_posts,
    post,
    press,
    reply,
    rows,
    set_up,
    start_session,
    until,
)
from tests.conftest import RunningServer, make_settings
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.signing import interactive_body, view_submission

REFLECTION_QUESTION = "Reflecteer op de werksessie"


def dms(slack: Any, since: int = 0) -> dict[str, int]:
    """Direct messages per person, without the reflectieverslag's question that everyone
    gets once a session is over (that feature's own tests count those)."""
    out: Counter[str] = Counter()
    for call in slack.calls_to("chat.postMessage")[since:]:
        channel = str(call["channel"])
        if channel.startswith("D") and not str(call.get("text", "")).startswith(
            REFLECTION_QUESTION
        ):
            out[channel[1:]] += 1
    return dict(out)


LEADER = "UFAC01"

# What happens in a phase: ("say", user, text) a reply in the thread; ("write", user, text) a
# private write-first answer; ("close", insight, step) the inbrenger closes the casus through
# its form. How the phase ends: "next" (the procesbegeleider's button) or "time" (the clock).
Step = tuple[str, str, str]
Plan = list[tuple[list[Step], str]]


class Session:
    def __init__(
        self, server: RunningServer, casus: Casus, werksessie: Werksessie, start: int
    ) -> None:
        self.server = server
        self.start = start  # the bot's posts before the first phase card
        self.casus = casus
        self.werksessie = werksessie
        self.sid = str(werksessie.id)
        self.clock = server.services.runtime.clock
        assert isinstance(self.clock, Clock)
        self.scheduler = scheduler_for(server.services)
        self.n = 0
        self.leader = LEADER

    def current(self) -> Werksessie:
        (werksessie,) = rows(self.server.services, Werksessie)
        return werksessie

    async def posted(self) -> None:
        await until(
            lambda: all(p.message_id for p in rows(self.server.services, WerksessiePost)),
            "the session's posts",
        )

    async def say(self, user: str, text: str) -> None:
        self.n += 1
        await reply(self.server, self.casus, user, text, self.n)

    async def write(self, user: str, text: str, phase: int) -> None:
        slack = self.server.slack
        opened = len(slack.calls_to("views.open"))
        await press(self.server, "werksessie_schrijf", f"{self.sid}:{phase}", user)
        view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
        status, answer = await post(
            self.server, interactive_body(view_submission(view, {"antwoord": text}, user=user))
        )
        assert status == 200 and "errors" not in answer, answer

    async def close(self, insight: str, step: str) -> None:
        slack = self.server.slack
        opened = len(slack.calls_to("views.open"))
        await press(self.server, "casus_afronden", str(self.casus.id), INBRENGER)
        view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
        values = {"inzicht": insight, "stap": step}
        status, text = await post(
            self.server, interactive_body(view_submission(view, values, user=INBRENGER))
        )
        assert status == 200 and "errors" not in text, text

    async def end_phase(self, phase: int, how: str) -> None:
        if how == "next":
            await press(self.server, "werksessie_volgende", f"{self.sid}:{phase}", self.leader)
            await until(lambda: self.current().phase == phase + 1, f"the end of phase {phase}")
        else:
            ends = self.current().phase_ends_at
            assert ends is not None
            self.clock.set(ends - timedelta(seconds=1))
            await self.scheduler.tick()
            assert self.current().phase == phase  # not a second early
            self.clock.set(ends + timedelta(seconds=1))
            await self.scheduler.tick()
            await self.scheduler.tick()  # a second tick posts nothing again
            assert self.current().phase == phase + 1
        await self.posted()

    async def run(self, plan: Plan) -> None:
        for phase, (steps, how) in enumerate(plan):
            assert self.current().phase == phase
            for kind, first, second in steps:
                if kind == "say":
                    await self.say(first, second)
                elif kind == "write":
                    await self.write(first, second, phase)
                else:
                    await self.close(first, second)
            await self.end_phase(phase, how)


async def begin(server: RunningServer, method: str) -> Session:
    clock = Clock(T0)
    server.services.runtime.clock = clock
    casus, werksessie = await set_up(server, method)
    start = len(server.slack.calls_to("chat.postMessage"))
    await start_session(server, werksessie)
    return Session(server, casus, werksessie, start)


def stored(server: RunningServer) -> list[tuple[int, str, str, bool, str | None]]:
    members = {m.id: m.platform_user_id for m in rows(server.services, Member)}
    return [
        (b.phase, members[b.author_id], b.text, b.private, b.nudged)
        for b in rows(server.services, WerksessieBijdrage)
    ]


def finished_once(server: RunningServer, session: Session, titles: list[str]) -> None:
    """Every phase card once, in order, then the closing word; the casus closed by its form."""
    total = len(titles)
    cards = [h for h in phase_posts(server.slack, session.start) if h.startswith("Fase ")]
    assert cards == [f"Fase {i} van {total}: {t}" for i, t in enumerate(titles, start=1)]
    done = session.current()
    assert done.status == WerksessieStatus.FINISHED and done.phases_done == total
    kinds = Counter((p.phase, p.kind) for p in rows(server.services, WerksessiePost))
    assert kinds[(total, "einde")] == 1
    assert all(kinds[(i, "fase")] == 1 for i in range(total))
    assert f"is klaar: {total} van {total} fasen" in json.dumps(
        in_channels(server.slack)[-1], ensure_ascii=False
    )
    (casus,) = rows(server.services, Casus)
    assert casus.status == CasusStatus.CLOSED


def section_texts(call: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in call.get("blocks") or [] if b.get("type") == "section"]


async def test_vijf_keer_waarom_grows_its_chain_in_one_message_and_the_lead_is_handed_over(
    server: RunningServer,
) -> None:
    slack = server.slack
    session = await begin(server, "vijf_keer_waarom")
    sid = session.sid

    # The facilitator hands the lead to UB1, who signed up; UJ1 may not choose.
    await press(server, "werksessie_begeleider", sid, "UJ1")
    await until(
        lambda: any("Alleen de procesbegeleider" in e for e in ephemerals_to(slack, "UJ1")),
        "refusal",
    )
    opened = len(slack.calls_to("views.open"))
    await press(server, "werksessie_begeleider", sid, LEADER)
    view = (await slack.wait_for("views.open", opened + 1))[-1]["view"]
    assert view["callback_id"] == "werksessie_begeleider"
    options = view["blocks"][-1]["element"]["options"]
    assert len(options) == 6 and any("Buurtteam Noord" in o["text"]["text"] for o in options)
    ub1 = rows(server.services, Member, Member.platform_user_id == "UB1")[0]
    before = len(slack.calls_to("chat.postMessage"))
    status, text = await post(
        server,
        interactive_body(view_submission(view, {"begeleider": str(ub1.id)}, user=LEADER)),
    )
    assert status == 200 and "errors" not in text, text
    announced = (await slack.wait_for("chat.postMessage", before + 1))[-1]
    assert announced["thread_ts"] == session.casus.message_id
    assert "<@UB1> is nu de procesbegeleider" in json.dumps(announced, ensure_ascii=False)
    assert session.current().begeleider_id == ub1.id
    # The session's card is edited to name the new procesbegeleider.
    (edit,) = await slack.wait_for("chat.update", 1)
    (card,) = rows(server.services, PostedMessage, PostedMessage.kind == "werksessie_kaart")
    assert edit["ts"] == card.message_id and card.object_id == session.current().id
    assert "*Procesbegeleider:* <@UB1>" in json.dumps(edit, ensure_ascii=False)
    session.leader = "UB1"
    await press(server, "werksessie_volgende", f"{sid}:0", "UJ1")  # still not UJ1
    await until(
        lambda: sum("Alleen de procesbegeleider" in e for e in ephemerals_to(slack, "UJ1")) == 2,
        "second refusal",
    )
    assert session.current().phase == 0

    await session.say(INBRENGER, "Een moeder komt steeds niet op afspraken.")
    await session.end_phase(0, "next")  # by UB1, the procesbegeleider now
    card = slack.calls_to("chat.postMessage")[-1]
    assert "Fase 2 van 3: Waarom?" in json.dumps(card, ensure_ascii=False)
    assert "De keten begint" in json.dumps(card, ensure_ascii=False)
    card_ts = rows(server.services, WerksessiePost, WerksessiePost.phase == 1)[0].message_id

    chain = [
        ("UB1", "Waarom komt ze niet?"),
        (INBRENGER, "Ze heeft geen vervoer."),
        ("UJ1", "Ik zou een taxi regelen."),  # not a question: a nudge, not a link
        ("UB2", "Waarom heeft ze geen vervoer?"),
        (INBRENGER, "De bus rijdt niet meer sinds de bezuiniging."),
        ("UG2", "Waarom wist niemand dat?"),
        (INBRENGER, "Niemand vroeg ernaar: wij gingen uit van onwil."),
    ]
    for updates, (user, said) in enumerate(chain, start=1):
        await session.say(user, said)
        await until(lambda n=updates: len(slack.calls_to("chat.update")) >= n + 1, "the chain edit")
    edits = slack.calls_to("chat.update")[1:]  # after the session card's edit
    assert len(edits) == len(chain)  # one edit per reply, of the same message
    assert {e["ts"] for e in edits} == {card_ts}
    for edit in (edits[0], edits[-1]):
        for block in edit["blocks"]:
            SlackBlock.parse(block).validate_json()  # type: ignore[union-attr]
    final = "\n".join(section_texts(edits[-1]))
    assert "*De keten van waarom* (3 keer gevraagd)" in final
    for number, (question, answer) in enumerate(
        [(chain[0], chain[1]), (chain[3], chain[4]), (chain[5], chain[6])], start=1
    ):
        assert f"*{number}. Waarom?* {question[1]}\n↳ {answer[1]}" in final
    assert "taxi" not in final
    assert "Ze heeft geen vervoer." not in "\n".join(section_texts(edits[0]))
    assert "de inbrenger antwoordt" in "\n".join(section_texts(edits[0]))
    assert any("alleen vragen" in e for e in ephemerals_to(slack, "UJ1"))
    await session.end_phase(1, "time")

    await session.close("De wortel: wij vroegen niet.", "Morgen vraag ik naar vervoer.")
    await session.end_phase(2, "next")
    finished_once(server, session, ["Het vraagstuk", "Waarom?", "De wortel"])
    assert [(p, u, nudge) for p, u, _, _, nudge in stored(server)] == [
        (0, INBRENGER, None),
        *[(1, u, "geen_vraag" if u == "UJ1" else None) for u, _ in chain],
    ]


async def test_balint_schrijf_eerst_from_pitch_to_the_inbrengers_choice(
    server: RunningServer,
) -> None:
    slack = server.slack
    session = await begin(server, "schrijf_eerst")
    first = {"UB1": "Schaamte bij de moeder.", "UJ1": "Een school die te snel gaat."}
    advice = {"UG2": "Vraag haar wat zij wil.", "UB2": "Betrek een ervaringsdeskundige."}
    plan: Plan = [
        ([("say", INBRENGER, "Een moeder wil geen hulp. Hoe bouw ik vertrouwen op?")], "next"),
        ([("write", u, t) for u, t in first.items()], "next"),
        (
            [("say", "UB2", "Hoe lang ken je haar al?"), ("say", INBRENGER, "Een half jaar.")],
            "next",
        ),
        ([("write", u, t) for u, t in advice.items()], "time"),
        ([("close", "Haar eigen vraag eerst.", "Morgen vraag ik wat zij wil.")], "next"),
    ]
    for phase, (steps, how) in enumerate(plan):
        for kind, user, text in steps:
            if kind == "write":
                await session.write(user, text, phase)
                shown = json.dumps(slack.calls_to("chat.postMessage"), ensure_ascii=False)
                assert text not in shown  # nobody sees it before the phase ends
            elif kind == "say":
                await session.say(user, text)
            else:
                await session.close(user, text)
        await session.end_phase(phase, how)

    finished_once(
        server,
        session,
        [
            "De pitch",
            "Eerste associaties",
            "Verhelderende vragen",
            "Geschreven advies",
            "De keuze van de inbrenger",
        ],
    )
    posts = slack.calls_to("chat.postMessage")
    reveals = [
        json.dumps(p, ensure_ascii=False)
        for p in posts
        if "Wat iedereen schreef" in json.dumps(p, ensure_ascii=False)
    ]
    assert len(reveals) == 2
    assert "Eerste associaties" in reveals[0] and "Geschreven advies" in reveals[1]
    for user, text in first.items():
        assert text in reveals[0] and f"<@{user}>" in reveals[0] and text not in reveals[1]
    for user, text in advice.items():
        assert text in reveals[1] and f"<@{user}>" in reveals[1]
    everything = json.dumps(posts, ensure_ascii=False)
    for text in [*first.values(), *advice.values()]:
        assert everything.count(text) == 1  # revealed once
    private = [(p, u) for p, u, _, is_private, _ in stored(server) if is_private]
    assert private == [(1, "UB1"), (1, "UJ1"), (3, "UG2"), (3, "UB2")]
    kinds = Counter((p.phase, p.kind) for p in rows(server.services, WerksessiePost))
    assert kinds[(1, "onthulling")] == kinds[(3, "onthulling")] == 1


async def test_waarderend_onderzoek_discover_dream_design_destiny(server: RunningServer) -> None:
    session = await begin(server, "waarderend_onderzoek")
    plan: Plan = [
        (
            [
                ("say", "UB1", "Het werkte toen we samen op huisbezoek gingen."),
                ("say", "UJ1", "Bij ons hielp een vaste contactpersoon."),
            ],
            "time",
        ),
        ([("say", "UG2", "Eén plan, één contactpersoon voor het gezin.")], "time"),
        (
            [("say", "UB2", "We spreken een vaste overdracht af."), ("say", INBRENGER, "Ja.")],
            "next",
        ),
        ([("close", "Bouwen op wat werkt.", "Morgen plan ik een gezamenlijk huisbezoek.")], "time"),
    ]
    await session.run(plan)
    finished_once(server, session, ["Ontdekken", "Dromen", "Ontwerpen", "Doen"])
    assert [(p, u) for p, u, _, _, _ in stored(server)] == [
        (0, "UB1"),
        (0, "UJ1"),
        (1, "UG2"),
        (2, "UB2"),
        (2, INBRENGER),
    ]
    assert all(nudge is None for *_, nudge in stored(server))
    # Each phase that ran out moved on a second after its time: 10 + 10 + (moved on) + 5 min.
    assert session.current().finished_at == T0 + timedelta(minutes=10 + 10 + 5, seconds=3)


async def test_alact_plans_the_next_cycle_and_sends_it_once_at_its_time(
    server: RunningServer, database_target: Any
) -> None:
    slack = server.slack
    session = await begin(server, "alact")
    step = "Morgen vraag ik eerst wat zij nodig heeft."
    plan: Plan = [
        ([("say", INBRENGER, "Ik gaf meteen advies toen ze boos werd.")], "next"),
        ([("say", "UB1", "Wat wilde je op dat moment?"), ("say", INBRENGER, "Rust.")], "next"),
        ([("say", "UJ1", "Je wilde het oplossen in plaats van luisteren.")], "next"),
        ([("close", "Eerst luisteren.", step)], "next"),
    ]
    await session.run(plan)
    # 'Uitproberen' began: the next cycle is stored for the inbrenger, a week on.
    tried = session.current()
    assert tried.phase == 4 and tried.phase_started_at is not None
    (followup,) = rows(server.services, WerksessieFollowup)
    inbrenger = rows(server.services, Member, Member.platform_user_id == INBRENGER)[0]
    assert followup.member_id == inbrenger.id and followup.status == "pending"
    assert followup.due_at == tried.phase_started_at + timedelta(days=7)
    await session.end_phase(4, "next")
    await press(server, "werksessie_volgende", f"{session.sid}:3", LEADER)  # stale: nothing
    finished_once(
        server,
        session,
        ["Handelen", "Terugblikken", "Wat is essentieel?", "Alternatieven en voornemen",
         "Uitproberen"],
    )  # fmt: skip
    assert len(rows(server.services, WerksessieFollowup)) == 1

    # Nothing before its time; then one private message to the inbrenger.
    before = len(slack.calls_to("chat.postMessage"))
    session.clock.set(followup.due_at - timedelta(minutes=1))
    await session.scheduler.tick()
    assert dms(slack, before) == {}
    session.clock.set(followup.due_at + timedelta(seconds=1))
    await session.scheduler.tick()
    await session.scheduler.tick()
    assert dms(slack, before) == {INBRENGER: 1}
    message = json.dumps(slack.calls_to("chat.postMessage")[-1], ensure_ascii=False)
    assert step in message and "volgende cyclus" in message
    (sent,) = rows(server.services, WerksessieFollowup)
    assert sent.status == "sent" and sent.message_id and sent.sent_at is not None

    # Another process on the same database (a restart, a replica) sends nothing again.
    settings = make_settings(database_target.url, SLACK_API_URL=slack.url)
    second = build_services(settings)
    survivor = None
    try:
        second.runtime.clock = Clock(followup.due_at + timedelta(hours=1))
        survivor = scheduler_for(second)
        await survivor.tick()
        await survivor.tick()
        assert dms(slack, before) == {INBRENGER: 1}
    finally:
        if survivor is not None:
            await survivor.stop()
        second.close()


async def test_a_follow_up_sent_but_not_recorded_is_found_and_not_sent_twice(
    server: RunningServer, database_target: Any
) -> None:
    """The process that sent the follow-up died before it recorded it: the row stays
    'sending' with its claim. A new process finds the message by its key instead of sending
    a second one."""
    from handlers.core.messaging import outbox_key
    from handlers.werksessie import engine
    from handlers.werksessie.queries import FOLLOWUP

    slack = server.slack
    session = await begin(server, "alact")
    await session.run([([], "next")] * 4)
    (followup,) = rows(server.services, WerksessieFollowup)
    due = followup.due_at
    session.clock.set(due + timedelta(seconds=1))

    def take(ctx: Any) -> list[engine.Reminder]:
        items = engine.pending_followups(ctx)
        row = ctx.session.get(WerksessieFollowup, followup.id)
        row.status, row.claimed_at = "sending", ctx.now()
        return items

    (item,) = server.services.runtime.call_sync(take)
    assert item.key == outbox_key(FOLLOWUP.name, followup.id)
    before = len(slack.calls_to("chat.postMessage"))
    await server.services.messengers.get("slack").direct(item.user_id, item.card, key=item.key)
    assert dms(slack, before) == {INBRENGER: 1}
    assert "voornemen uitproberen" in json.dumps(
        slack.calls_to("chat.postMessage")[-1], ensure_ascii=False
    )  # no step: the casus was not closed

    settings = make_settings(database_target.url, SLACK_API_URL=slack.url)
    second = build_services(settings)
    survivor = None
    try:
        second.runtime.clock = Clock(due + timedelta(minutes=5))
        survivor = scheduler_for(second)
        await survivor.tick()
        await survivor.tick()
        assert dms(slack, before) == {INBRENGER: 1}
        with second.database.session() as db:
            (row,) = db.scalars(select(WerksessieFollowup)).all()
            assert row.status == "sent" and row.message_id
    finally:
        if survivor is not None:
            await survivor.stop()
        second.close()


async def test_async_reminders_skip_who_took_part_privately_and_an_inbrenger_who_closed(
    server: RunningServer,
) -> None:
    """Async: one reminder per phase, halfway, to whoever may speak in it and did not take
    part. A private write-first answer is taking part; so is closing the casus through its
    form in the inbrenger's closing phase."""
    slack = server.slack
    clock = Clock(T0)
    server.services.runtime.clock = clock
    casus, werksessie = await set_up(server, "schrijf_eerst", mode="async")
    await start_session(server, werksessie)
    session = Session(server, casus, werksessie, 0)
    everyone = {LEADER, "UG2", "UB1", "UB2", "UJ1"}  # besides the inbrenger

    # The pitch: only the inbrenger speaks, and did.
    await session.say(INBRENGER, "Een moeder wil geen hulp.")
    before = len(slack.calls_to("chat.postMessage"))
    clock.set(T0 + timedelta(hours=12, seconds=1))
    await session.scheduler.tick()
    await session.scheduler.tick()
    assert dms(slack, before) == {}

    # First associations (the inbrenger listens): UB1 wrote privately.
    await session.end_phase(0, "time")
    await session.write("UB1", "Schaamte.", 1)
    clock.set(clock.now + timedelta(hours=12, seconds=1))
    await session.scheduler.tick()
    await session.scheduler.tick()
    assert dms(slack, before) == {user: 1 for user in everyone - {"UB1"}}
    clock.set(clock.now + timedelta(hours=6))
    await session.scheduler.tick()
    assert dms(slack, before) == {user: 1 for user in everyone - {"UB1"}}  # once per phase

    # Skipped ahead to the inbrenger's choice; the inbrenger closes through the casus form.
    await session.end_phase(1, "next")
    await session.end_phase(2, "next")
    await session.end_phase(3, "next")
    await session.close("Haar vraag eerst.", "Morgen vraag ik wat zij wil.")
    before = len(slack.calls_to("chat.postMessage"))
    clock.set(clock.now + timedelta(hours=12, seconds=1))
    await session.scheduler.tick()
    await session.scheduler.tick()
    assert dms(slack, before) == {}
    reminders = Counter(r.phase for r in rows(server.services, WerksessieReminder))
    assert reminders == Counter({1: 4})
