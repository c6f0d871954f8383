"""A werksessie in Teams, through the running server and the loopback connector, on both
databases: an incidentmethode with five people from three organisations, the clock
controlled, every phase card once in the casus thread, nudges in the right phases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.profiles.chat import save_profile
from storage.models import (
    Casus,
    CasusStatus,
    Member,
    Werksessie,
    WerksessieBijdrage,
    WerksessiePost,
    WerksessieStatus,
)
from tests.bot.teams.conftest import TeamsServer
from tests.bot.teams.test_casus_flow import CLEAN, bring_in, ok
from tests.support.scheduling import Clock, scheduler_for, stop_schedulers  # noqa: F401
from tests.support.teams_standin import (
    ANNA,
    CHANNEL,
    FLOOR,
    KARIM,
    Sent,
    TeamsUser,
    assert_valid_teams_card,
    card_submit,
    card_text,
    message,
)

EVA = TeamsUser("d4d4d4d4-0000-4000-8000-00000000000d", "29:1eva", "Eva Bakker")
JOOST = TeamsUser("e5e5e5e5-0000-4000-8000-00000000000e", "29:1joost", "Joost Visser")
ORGS = {ANNA: "Gemeente Utrecht", EVA: "Gemeente Utrecht", KARIM: "Buurtteam Noord",
        JOOST: "Buurtteam Noord", FLOOR: "Jeugdzorg Midden"}  # fmt: skip
T0 = datetime(2026, 3, 23, 14, 0, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(UTC)


def give_profiles(server: TeamsServer) -> None:
    def step(ctx: Any) -> None:
        for user, org in ORGS.items():
            member = ctx.repos.members.ensure("teams", user.aad, display_name=user.name)
            save_profile(ctx, member, org, "consulent", ["jeugd"])

    server.services.runtime.call_sync(step)


def thread_posts(server: TeamsServer, casus: Casus) -> list[Sent]:
    return [
        s
        for s in server.connector.calls("send")
        if s.conversation_id == f"{CHANNEL};messageid={casus.message_id}"
    ]


async def press(
    server: TeamsServer, sent: Sent, action_id: str, user: TeamsUser, casus: Casus
) -> None:
    card = sent.card
    index = next(i for i, a in enumerate(card["actions"]) if a["data"]["action_id"] == action_id)
    assert sent.response_id is not None
    activity = card_submit(
        server.connector.url,
        card,
        sent.response_id,
        action=index,
        user=user,
        thread=casus.message_id,
    )
    await ok(server, activity)


async def say(server: TeamsServer, casus: Casus, user: TeamsUser, text: str) -> None:
    assert casus.message_id is not None
    await ok(
        server,
        message(
            server.connector.url,
            text,
            user=user,
            thread=casus.message_id,
            reply_to=casus.message_id,
        ),
    )


async def test_a_full_incidentmethode_in_teams(teams: TeamsServer) -> None:
    clock = Clock(T0)
    teams.services.runtime.clock = clock
    scheduler = scheduler_for(teams.services)
    give_profiles(teams)
    casus = await bring_in(teams, CLEAN, user=ANNA)
    assert casus.message_id is not None

    # The facilitator sets it up: the form card answers in the thread of the command.
    before = len(teams.connector.calls("reply"))
    await ok(
        teams,
        message(teams.connector.url, f"werksessie {casus.id}", user=FLOOR, mention_bot=True),
    )
    form = teams.connector.calls("reply")[before]
    assert_valid_teams_card(form.card)
    assert form.response_id is not None
    await ok(
        teams,
        card_submit(
            teams.connector.url,
            form.card,
            form.response_id,
            {"methode": "incidentmethode", "vorm": "live", "namen": "met"},
            user=FLOOR,
            thread=form.conversation_id.partition(";messageid=")[2],
        ),
    )
    (session_card,) = thread_posts(teams, casus)
    assert_valid_teams_card(session_card.card)
    assert "Werksessie: Incidentmethode" in card_text(session_card.card)
    for user in ORGS:
        await press(teams, session_card, "werksessie_doe_mee", user, casus)
    await press(teams, session_card, "werksessie_begin", KARIM, casus)  # only the leader
    assert teams.rows(WerksessiePost) == []
    await press(teams, session_card, "werksessie_begin", FLOOR, casus)

    said = {
        1: [(ANNA, "Ze liet me niet binnen; ik weet niet zeker of de school erbij moet.")],
        2: [(KARIM, "Wat heb je al geprobeerd?"), (JOOST, "Bel de school.")],
        3: [(EVA, "Ik zie wantrouwen."), (ANNA, "Dat klopt niet helemaal.")],
        4: [(FLOOR, "Begin bij wat zij belangrijk vindt.")],
    }
    moment = T0
    for phase, minutes in enumerate([5, 10, 15, 10, 10, 10, 5]):
        for user, text in said.get(phase, []):
            await say(teams, casus, user, text)
        if phase == 5:  # the inbrenger closes through the casus's own form
            card = thread_posts(teams, casus)[-1]
            assert "Fase 6 van 7" in card_text(card.card)
            before = len(teams.connector.calls("reply"))
            await press(teams, card, "casus_afronden", ANNA, casus)
            closing = teams.connector.calls("reply")[before]
            assert closing.response_id is not None
            await ok(
                teams,
                card_submit(
                    teams.connector.url,
                    closing.card,
                    closing.response_id,
                    {"inzicht": "Eerst vertrouwen.", "stap": "Morgen bel ik haar."},
                    user=ANNA,
                    thread=closing.conversation_id.partition(";messageid=")[2],
                ),
            )
        moment += timedelta(minutes=minutes)
        clock.set(moment + timedelta(seconds=1))
        await scheduler.tick()
        await scheduler.tick()
        moment = clock.now

    cards = [card_text(s.card) for s in thread_posts(teams, casus)[1:] if "attachments" in s.body]
    for card in (s.card for s in thread_posts(teams, casus) if "attachments" in s.body):
        assert_valid_teams_card(card)
    headers = [text.split("\n", 1)[0] for text in cards]
    assert sum("Fase " in h for h in headers) == 7
    for number in range(1, 8):
        assert sum(f"Fase {number} van 7" in text for text in cards) == 1
    assert "is klaar: 7 van 7 fasen" in cards[-1]
    done = teams.rows(Werksessie)[0]
    assert done.status == WerksessieStatus.FINISHED and done.phases_done == 7
    assert Counter((p.phase, p.kind) for p in teams.rows(WerksessiePost)) == Counter(
        {**{(i, "fase"): 1 for i in range(7)}, (7, "einde"): 1}
    )
    members = {m.id: m.platform_user_id for m in teams.rows(Member)}
    stored = [(b.phase, members[b.author_id], b.nudged) for b in teams.rows(WerksessieBijdrage)]
    assert stored == [
        (1, ANNA.aad, None),
        (2, KARIM.aad, None),
        (2, JOOST.aad, "geen_vraag"),
        (3, EVA.aad, None),
        (3, ANNA.aad, "inbrenger_luistert"),
        (4, FLOOR.aad, None),
    ]
    everything = teams.connector.everything()
    assert "stellen we alleen vragen" in everything
    assert "luistert de inbrenger" in everything
    closed = teams.rows(Casus)[0]
    assert closed.status == CasusStatus.CLOSED and closed.next_step == "Morgen bel ik haar."


async def test_vijf_keer_waarom_grows_its_chain_in_one_teams_message(teams: TeamsServer) -> None:
    """The chain of waarom and answers is one card in the casus thread, updated in place
    (the connector's update of that activity) after each reply."""
    clock = Clock(T0)
    teams.services.runtime.clock = clock
    give_profiles(teams)
    casus = await bring_in(teams, CLEAN, user=ANNA)
    before = len(teams.connector.calls("reply"))
    await ok(
        teams,
        message(teams.connector.url, f"werksessie {casus.id}", user=FLOOR, mention_bot=True),
    )
    form = teams.connector.calls("reply")[before]
    assert form.response_id is not None
    await ok(
        teams,
        card_submit(
            teams.connector.url,
            form.card,
            form.response_id,
            {"methode": "vijf_keer_waarom", "vorm": "live", "namen": "met"},
            user=FLOOR,
            thread=form.conversation_id.partition(";messageid=")[2],
        ),
    )
    (session_card,) = thread_posts(teams, casus)
    for user in ORGS:
        await press(teams, session_card, "werksessie_doe_mee", user, casus)
    await press(teams, session_card, "werksessie_begin", FLOOR, casus)
    await say(teams, casus, ANNA, "Ze komt steeds niet op afspraken.")
    await press(teams, thread_posts(teams, casus)[-1], "werksessie_volgende", FLOOR, casus)
    chain_card = thread_posts(teams, casus)[-1]
    assert "Fase 2 van 3: Waarom?" in card_text(chain_card.card)
    assert chain_card.response_id is not None

    chain = [
        (KARIM, "Waarom komt ze niet?"),
        (ANNA, "Ze heeft geen vervoer."),
        (JOOST, "Regel een taxi."),  # not a question: a nudge, no link
        (EVA, "Waarom heeft ze geen vervoer?"),
        (ANNA, "De bus rijdt niet meer."),
    ]
    for user, text in chain:
        await say(teams, casus, user, text)
    updates = [
        u for u in teams.connector.calls("update") if u.activity_id == chain_card.response_id
    ]
    assert len(updates) == len(chain)
    for update in updates:
        assert_valid_teams_card(update.card)
    final = card_text(updates[-1].card)
    assert "De keten van waarom (2 keer gevraagd)" in final
    assert final.index("Waarom komt ze niet?") < final.index("Ze heeft geen vervoer.")
    assert final.index("Ze heeft geen vervoer.") < final.index("Waarom heeft ze geen vervoer?")
    assert final.index("Waarom heeft ze geen vervoer?") < final.index("De bus rijdt niet meer.")
    assert "taxi" not in final
    assert sum("Fase 2 van 3" in card_text(s.card) for s in thread_posts(teams, casus)
               if "attachments" in s.body) == 1  # fmt: skip


async def test_the_facilitator_hands_the_lead_to_a_participant_in_teams(teams: TeamsServer) -> None:
    give_profiles(teams)
    casus = await bring_in(teams, CLEAN, user=ANNA)
    before = len(teams.connector.calls("reply"))
    await ok(
        teams,
        message(teams.connector.url, f"werksessie {casus.id}", user=FLOOR, mention_bot=True),
    )
    form = teams.connector.calls("reply")[before]
    assert form.response_id is not None
    await ok(
        teams,
        card_submit(
            teams.connector.url,
            form.card,
            form.response_id,
            {"methode": "alact", "vorm": "live", "namen": "met"},
            user=FLOOR,
            thread=form.conversation_id.partition(";messageid=")[2],
        ),
    )
    (session_card,) = thread_posts(teams, casus)
    for user in (KARIM, EVA):
        await press(teams, session_card, "werksessie_doe_mee", user, casus)

    before = len(teams.connector.calls("reply"))
    await press(teams, session_card, "werksessie_begeleider", FLOOR, casus)
    choose = teams.connector.calls("reply")[before]
    assert_valid_teams_card(choose.card)
    choices = [
        c["title"]
        for item in choose.card["body"]
        if item.get("type") == "Input.ChoiceSet"
        for c in item["choices"]
    ]
    assert "Karim El Amrani (Buurtteam Noord)" in choices and len(choices) == 3
    karim = next(m for m in teams.rows(Member) if m.platform_user_id == KARIM.aad)
    assert choose.response_id is not None
    await ok(
        teams,
        card_submit(
            teams.connector.url,
            choose.card,
            choose.response_id,
            {"begeleider": str(karim.id)},
            user=FLOOR,
            thread=choose.conversation_id.partition(";messageid=")[2],
        ),
    )
    assert teams.rows(Werksessie)[0].begeleider_id == karim.id
    assert "is nu de procesbegeleider" in card_text(thread_posts(teams, casus)[-1].card)
    edited = [
        u for u in teams.connector.calls("update") if u.activity_id == session_card.response_id
    ]
    assert len(edited) == 1
    assert_valid_teams_card(edited[0].card)
    # Karim leads now: he starts the session.
    await press(teams, session_card, "werksessie_begin", KARIM, casus)
    assert teams.rows(Werksessie)[0].status == WerksessieStatus.RUNNING
    assert "Fase 1 van 5: Handelen" in card_text(thread_posts(teams, casus)[-1].card)
