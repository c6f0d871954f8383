"""A praktijkvoorbeeld in Teams, through the running server and the loopback connector, on both
databases: shared with ``@Leerkring praktijkvoorbeeld``, translated by two colleagues from the
card's button (one private), the follow-up DM after four weeks with the clock controlled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from storage.models import Member, PraktijkVertaling, PraktijkVervolg, Praktijkvoorbeeld
from tests.bot.teams.conftest import TeamsServer
from tests.bot.teams.test_casus_flow import ok, submit
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

T0 = datetime(2026, 3, 23, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(UTC)
PRACTICE = {
    "titel": "Keukentafelgesprek met de hele familie",
    "doel": "Gezinnen met schulden vroeg bereiken.",
    "veranderd": "Minder uitval.",
    "succesfactoren": "Eén vast gezicht.",
    "knelpunten": "",
    "proces": "Eerst thuis, dan samen met alle hulpverleners.",
    "tips": "Begin klein.",
}


def answer(score: str, step: str, share: str) -> dict[str, Any]:
    return {
        "score": score,
        "meenemen": "Het vaste gezicht",
        "niet_meenemen": "",
        "nodig": "Tijd van de teamleider.",
        "stap": step,
        "delen": share,
    }


async def press(
    server: TeamsServer, sent: Sent, action_id: str, user: TeamsUser, thread: str | None
) -> None:
    card = sent.card
    index = next(i for i, a in enumerate(card["actions"]) if a["data"]["action_id"] == action_id)
    assert sent.response_id is not None
    kind = "personal" if sent.conversation_id.startswith("a:") else "channel"
    activity = card_submit(
        server.connector.url,
        card,
        sent.response_id,
        action=index,
        user=user,
        kind=kind,
        thread=thread,
    )
    await ok(server, activity)


async def test_a_practice_shared_translated_and_followed_up_in_teams(teams: TeamsServer) -> None:
    connector = teams.connector
    clock = Clock(T0)
    teams.services.runtime.clock = clock

    before = len(connector.calls("reply"))
    await ok(teams, message(connector.url, "praktijkvoorbeeld", user=ANNA, mention_bot=True))
    form = connector.calls("reply")[before]
    assert_valid_teams_card(form.card)
    sends = len(connector.calls("send"))
    await submit(teams, form, PRACTICE, user=ANNA)
    (card,) = [s for s in connector.calls("send")[sends:] if s.conversation_id == CHANNEL]
    assert_valid_teams_card(card.card)
    shown = card_text(card.card)
    assert "Praktijkvoorbeeld: Keukentafelgesprek met de hele familie" in shown
    assert "Eerst thuis, dan samen met alle hulpverleners." in shown
    (practice,) = teams.rows(Praktijkvoorbeeld)
    assert practice.message_id is not None
    thread = f"{CHANNEL};messageid={practice.message_id}"

    for user, score, step, share in (
        (KARIM, "7", "Morgen bel ik de wijkagent.", "draad"),
        (FLOOR, "3", "Ik vraag mijn teamleider om tijd.", "prive"),
    ):
        before = len(connector.calls("reply"))
        await press(teams, card, "praktijk_vertaal", user, practice.message_id)
        answer_form = connector.calls("reply")[before]
        assert_valid_teams_card(answer_form.card)
        assert "Hoe ver is jouw eigen praktijk hiermee?" in connector.everything()
        await submit(teams, answer_form, answer(score, step, share), user=user)

    in_thread = [s for s in connector.calls("send") if s.conversation_id == thread]
    assert len(in_thread) == 1
    assert_valid_teams_card(in_thread[0].card)
    assert "<at>Karim El Amrani</at> vertaalde dit naar de eigen praktijk: **7/10**" in card_text(
        in_thread[0].card
    )
    assert "Ik vraag mijn teamleider" not in connector.everything()
    members = {m.id: m.platform_user_id for m in teams.rows(Member)}
    assert [(members[t.member_id], t.score, t.shared) for t in teams.rows(PraktijkVertaling)] == [
        (KARIM.aad, 7, True),
        (FLOOR.aad, 3, False),
    ]

    # Four weeks later: one DM each, "hoe ging je stap?"; Karim answers from it.
    scheduler = scheduler_for(teams.services, praktijk_followup_after=timedelta(weeks=4))
    clock.set(T0 + timedelta(weeks=4, minutes=1))
    await scheduler.tick()
    await scheduler.tick()
    dms = [s for s in connector.calls("send") if "Hoe ging je stap?" in str(s.body)]
    assert len(dms) == 2
    for dm in dms:
        assert_valid_teams_card(dm.card)
    assert [f.status for f in teams.rows(PraktijkVervolg)] == ["sent", "sent"]
    karims = next(dm for dm in dms if "Morgen bel ik de wijkagent." in card_text(dm.card))
    before = len(connector.calls("reply"))
    await press(teams, karims, "praktijk_vervolg", KARIM, None)
    followup_form = connector.calls("reply")[before]
    await submit(teams, followup_form, {"hoe": "Goed, hij kwam langs.", "geleerd": ""}, user=KARIM)
    told = [f for f in teams.rows(PraktijkVervolg) if f.how_it_went]
    assert [f.how_it_went for f in told] == ["Goed, hij kwam langs."]
