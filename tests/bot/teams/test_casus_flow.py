"""The casus flow in Teams, through the running server and the loopback connector, on both
databases: intake card -> privacy guard -> posted card -> stored thread reply -> close."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.slack.render import render_form as render_slack_modal
from handlers.casus.chat import intake_form
from prompts import load_texts
from storage.db import Database
from storage.models import (
    Bijdrage,
    Casus,
    CasusStatus,
    ConversationReference,
    Member,
    PostedMessage,
    ProcessedEvent,
)
from tests.bot.teams.conftest import TeamsServer, emulator_env, start_server
from tests.conftest import DatabaseTarget
from tests.support.operator import STATUS_HEADERS
from tests.support.teams_standin import (
    ANNA,
    CHANNEL,
    FLOOR,
    KARIM,
    TENANT,
    ConnectorStandIn,
    Sent,
    TeamsUser,
    assert_valid_teams_card,
    card_submit,
    card_text,
    inputs_of,
    message,
)

TEXTS = load_texts("nl")
BSN = "111222333"
CLEAN: dict[str, Any] = {
    "titel": "Gezin met schulden weigert hulp",
    "situatie": "Een moeder met drie kinderen heeft huurachterstand en wil geen hulp van het "
    "wijkteam.\nDe kinderen missen school.",
    "knelpunt": "Ze zegt dat eerdere hulpverleners haar niet serieus namen.",
    "onzeker": "Ik weet niet of ik de school moet betrekken.",
    "vraag": "Hoe bouw ik vertrouwen op zonder te pushen?",
    "perspectieven": ["schulden", "jeugd"],
}


async def ok(server: TeamsServer, activity: dict[str, Any]) -> None:
    status, text = await server.post(activity)
    assert status == 200, text


async def open_intake(
    server: TeamsServer, title: str = "", user: TeamsUser = ANNA, kind: str = "channel"
) -> Sent:
    before = len(server.connector.calls("reply"))
    words = f"casus {title}".strip()
    await ok(
        server,
        message(server.connector.url, words, user=user, kind=kind, mention_bot=kind != "personal"),
    )
    replies = server.connector.calls("reply")
    assert len(replies) == before + 1, [s.method for s in server.connector.sent]
    return replies[-1]


async def submit(
    server: TeamsServer,
    form: Sent,
    inputs: dict[str, Any],
    user: TeamsUser = ANNA,
    action: int = 0,
) -> None:
    assert form.response_id is not None
    thread = form.conversation_id.partition(";messageid=")[2] or None
    kind = "personal" if form.conversation_id.startswith("a:") else "channel"
    activity = card_submit(
        server.connector.url,
        form.card,
        form.response_id,
        inputs,
        action=action,
        user=user,
        kind=kind,
        thread=thread,
    )
    await ok(server, activity)


async def bring_in(
    server: TeamsServer, values: dict[str, Any] = CLEAN, user: TeamsUser = ANNA
) -> Casus:
    form = await open_intake(server, user=user)

    def posts() -> int:  # in the channel (a suggestion of who could think along may follow)
        return len([s for s in server.connector.calls("send") if s.conversation_id == CHANNEL])

    before = posts()
    await submit(server, form, values, user=user)
    assert posts() == before + 1, server.connector.everything()
    return server.rows(Casus)[-1]


def casus_post(server: TeamsServer) -> Sent:
    return next(s for s in reversed(server.connector.calls("send")) if s.conversation_id == CHANNEL)


# --- intake -----------------------------------------------------------------------------------


async def test_casus_command_answers_in_its_thread_with_a_valid_form_card(
    teams: TeamsServer,
) -> None:
    form = await open_intake(teams, "Jongere dreigt uit huis te gaan")
    assert form.conversation_id.startswith(f"{CHANNEL};messageid=")
    assert form.activity_id == form.conversation_id.partition(";messageid=")[2]
    card = form.card
    assert_valid_teams_card(card)
    inputs = inputs_of(card)
    assert list(inputs) == ["titel", "situatie", "knelpunt", "onzeker", "vraag", "perspectieven"]
    assert inputs["titel"]["value"] == "Jongere dreigt uit huis te gaan"
    assert inputs["titel"]["maxLength"] == 150
    assert inputs["situatie"]["isMultiline"] is True
    assert inputs["perspectieven"]["isMultiSelect"] is True
    assert [a["title"] for a in card["actions"]] == ["Delen met de groep", "Annuleren"]


async def test_form_card_carries_the_same_fields_and_texts_as_the_slack_modal(
    teams: TeamsServer,
) -> None:
    card = (await open_intake(teams)).card
    modal = render_slack_modal(intake_form(TEXTS), None)
    slack_inputs = [b for b in modal["blocks"] if b["type"] == "input"]
    teams_inputs = inputs_of(card)
    assert list(teams_inputs) == [b["block_id"] for b in slack_inputs]
    for block in slack_inputs:
        item = teams_inputs[block["block_id"]]
        assert item["label"] == block["label"]["text"]
        assert item.get("isRequired", False) is (not block["optional"])
        if "placeholder" in block["element"]:
            assert item["placeholder"] == block["element"]["placeholder"]["text"]
        if block["element"]["type"] == "multi_static_select":
            assert [(c["title"], c["value"]) for c in item["choices"]] == [
                (o["text"]["text"], o["value"]) for o in block["element"]["options"]
            ]
        if "hint" in block:
            assert block["hint"]["text"] in card_text(card)
    assert modal["title"]["text"] in card_text(card)
    assert TEXTS.rich("casus.form.intro").plain() in card_text(card)
    assert [a["title"] for a in card["actions"]] == [
        modal["submit"]["text"],
        modal["close"]["text"],
    ]


async def test_the_word_alone_works_in_a_personal_chat(teams: TeamsServer) -> None:
    form = await open_intake(teams, kind="personal")
    assert form.conversation_id == ANNA.personal_chat
    assert_valid_teams_card(form.card)
    assert "titel" in inputs_of(form.card)


async def test_a_channel_post_without_mention_is_not_a_command(teams: TeamsServer) -> None:
    await ok(teams, message(teams.connector.url, "casus"))
    assert teams.connector.messages() == []
    assert teams.count(Casus) == 0


async def test_bsn_keeps_the_form_open_with_an_error_and_stores_nothing(
    teams: TeamsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    form = await open_intake(teams)
    values = {**CLEAN, "situatie": f"Moeder (BSN {BSN[:4]} {BSN[4:6]} {BSN[6:]}) heeft schulden."}
    await submit(teams, form, values)
    update = teams.connector.last("update")
    assert update.activity_id == form.response_id  # the form card, updated in place
    assert update.conversation_id == form.conversation_id
    card = update.card
    assert_valid_teams_card(card)
    inputs = inputs_of(card)
    # What was typed stays, except the identifier itself: the card is stored by Teams.
    assert inputs["titel"]["value"] == CLEAN["titel"]
    assert inputs["vraag"]["value"] == CLEAN["vraag"]
    assert inputs["perspectieven"]["value"] == "schulden,jeugd"
    assert inputs["situatie"]["value"] == "Moeder (BSN [BSN]) heeft schulden."
    text = card_text(card)
    assert "BSN" in text and TEXTS.get("privacy.advice") in text
    assert TEXTS.get("teams.form.blocked_value_removed") in text  # why their text changed
    # The error sits right under the field it is about.
    body_ids = [item.get("id") for item in card["body"]]
    position = body_ids.index("situatie")
    assert "BSN" in json.dumps(card["body"][position + 1], ensure_ascii=False)
    everything = teams.connector.everything()
    assert BSN not in everything and "1112 22 333" not in everything
    assert teams.count(Casus) == 0
    assert teams.connector.calls("send") == []
    assert BSN not in caplog.text and "1112 22 333" not in caplog.text


async def test_required_fields_left_empty_get_errors_on_those_fields(teams: TeamsServer) -> None:
    form = await open_intake(teams)
    await submit(teams, form, {**CLEAN, "titel": "   ", "vraag": ""})
    card = teams.connector.last("update").card
    assert TEXTS.get("teams.form.blocked_value_removed") not in card_text(card)
    body = card["body"]
    ids = [item.get("id") for item in body]
    for field_id in ("titel", "vraag"):
        after = json.dumps(
            body[ids.index(field_id) + 1 : ids.index(field_id) + 3], ensure_ascii=False
        )
        assert TEXTS.get("general.field_required") in after, field_id
    assert card_text(card).count(TEXTS.get("general.field_required")) == 2
    assert teams.count(Casus) == 0


async def test_clean_submission_posts_the_casus_card_in_the_channel_and_stores_it(
    teams: TeamsServer,
) -> None:
    form = await open_intake(teams)
    await submit(teams, form, CLEAN)
    posted = casus_post(teams)
    card = posted.card
    assert_valid_teams_card(card)
    assert card["body"][0]["inlines"][0]["text"] == CLEAN["titel"]
    text = card_text(card)
    assert CLEAN["onzeker"] in text and "Schulden en geldzorgen" in text
    assert "<at>Anna de Vries</at>" in text  # the inbrenger, as a Teams mention
    entities = card["msteams"]["entities"]
    assert entities == [
        {
            "type": "mention",
            "text": "<at>Anna de Vries</at>",
            "mentioned": {"id": ANNA.aad, "name": "Anna de Vries"},
        }
    ]
    buttons = [(a["title"], a["data"]["action_id"]) for a in card["actions"]]
    assert buttons == [("Ik denk mee", "casus_denk_mee"), ("Casus afronden", "casus_afronden")]
    assert posted.body["summary"].startswith("Nieuwe casus van Anna de Vries")
    assert "text" not in posted.body  # Teams would show it above the card
    # The form card now says it was sent, so it cannot be sent twice.
    done = teams.connector.last("update")
    assert done.activity_id == form.response_id
    assert "Verstuurd" in card_text(done.card) and "actions" not in done.card
    casus = teams.rows(Casus)[-1]
    assert casus.status == CasusStatus.OPEN
    assert casus.message_id == posted.response_id
    assert sorted(casus.perspectives) == ["jeugd", "schulden"]
    assert casus.situation == CLEAN["situatie"]
    with teams.services.database.session() as session:
        recorded = session.scalars(select(PostedMessage)).one()
        assert (recorded.platform, recorded.channel_ref) == ("teams", CHANNEL)
        inbrenger = session.scalars(select(Member)).one()
        assert (inbrenger.platform, inbrenger.platform_user_id) == ("teams", ANNA.aad)
        assert inbrenger.display_name == "Anna de Vries"


async def test_user_text_is_shown_literally_and_never_mentions_anyone(teams: TeamsServer) -> None:
    hostile = {
        **CLEAN,
        "titel": "Let op <at>Karim El Amrani</at> **nu**",
        "situatie": "Zie [klik hier](https://evil.example) en _dit_ \\* # kop",
    }
    await bring_in(teams, hostile)
    card = casus_post(teams).card
    text_blocks = [item["text"] for item in card["body"] if item["type"] == "TextBlock"]
    for block in text_blocks:  # the only Markdown on the card: our own lines with a mention
        for raw in ("Karim", "evil.example", "**nu**", "_dit_"):
            assert raw not in block
    runs = [
        i["text"]
        for item in card["body"]
        if item["type"] == "RichTextBlock"
        for i in item["inlines"]
    ]
    assert hostile["titel"] in runs
    assert "Zie [klik hier](https://evil.example) en _dit_ \\* # kop" in runs
    assert [e["mentioned"]["id"] for e in card["msteams"]["entities"]] == [ANNA.aad]


async def test_a_redelivered_submission_creates_one_casus(teams: TeamsServer) -> None:
    form = await open_intake(teams)
    assert form.response_id is not None
    activity = card_submit(
        teams.connector.url,
        form.card,
        form.response_id,
        CLEAN,
        thread=form.conversation_id.partition(";messageid=")[2],
    )
    for _ in range(3):
        await ok(teams, activity)
    assert teams.count(Casus) == 1
    assert len([s for s in teams.connector.calls("send") if s.conversation_id == CHANNEL]) == 1


async def test_cancel_replaces_the_form_and_stores_nothing(teams: TeamsServer) -> None:
    form = await open_intake(teams)
    await submit(teams, form, {}, action=1)
    update = teams.connector.last("update")
    assert update.activity_id == form.response_id
    assert "Geannuleerd" in card_text(update.card)
    assert teams.count(Casus) == 0


# --- bijdragen in the thread ------------------------------------------------------------------


async def test_thread_reply_is_stored_once_even_when_redelivered(teams: TeamsServer) -> None:
    casus = await bring_in(teams)
    assert casus.message_id is not None
    reply = message(
        teams.connector.url,
        "Ik zou eerst vragen wat zij zelf wil.",
        user=KARIM,
        thread=casus.message_id,
        reply_to=casus.message_id,
    )
    await ok(teams, reply)
    results = await asyncio.gather(*[teams.post(reply) for _ in range(3)])
    assert all(status == 200 for status, _ in results)
    rows = teams.rows(Bijdrage)
    assert len(rows) == 1
    assert rows[0].text == "Ik zou eerst vragen wat zij zelf wil."
    assert rows[0].message_id == reply["id"]
    with teams.services.database.session() as session:
        author = session.get(Member, rows[0].author_id)
        assert author is not None and author.platform_user_id == KARIM.aad
        claimed = session.scalars(
            select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == reply["id"])
        ).all()
        assert claimed == [reply["id"]]


async def test_replies_elsewhere_and_mentions_in_a_thread_are_not_bijdragen(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    other = message(teams.connector.url, "elders", user=KARIM, thread="1600000000000")
    root = message(teams.connector.url, "een nieuw bericht", user=KARIM)
    asked = message(
        teams.connector.url, "help", user=KARIM, thread=casus.message_id, mention_bot=True
    )
    for activity in (other, root, asked):
        await ok(teams, activity)
    assert teams.count(Bijdrage) == 0
    assert "Leerkring" in card_text(teams.connector.last("reply").card)  # help was answered


async def test_identifier_in_a_thread_reply_is_redacted_and_the_author_told_privately(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    teams.connector.members[CHANNEL] = [KARIM.account(), ANNA.account()]
    reply = message(
        teams.connector.url,
        f"Haar BSN is {BSN}, bel 06-12345678",
        user=KARIM,
        thread=casus.message_id,
    )
    await ok(teams, reply)
    stored = teams.rows(Bijdrage)[0].text
    assert BSN not in stored and "12345678" not in stored and "[BSN]" in stored
    # No 1:1 chat with Karim yet: looked up, created, then written to.
    created = teams.connector.last("create")
    assert created.body["members"][0]["id"] == KARIM.teams_id
    assert created.body["channelData"]["tenant"]["id"] == TENANT
    notice = teams.connector.last("send")
    assert notice.conversation_id == created.response_id
    assert "BSN" in card_text(notice.card)
    assert BSN not in teams.connector.everything()
    # The new 1:1 chat is remembered for next time.
    with teams.services.database.session() as session:
        personal = session.scalars(
            select(ConversationReference).where(ConversationReference.kind == "personal")
        ).one()
        assert (personal.user_id, personal.conversation_id) == (KARIM.aad, created.response_id)


async def test_think_along_opens_a_reply_form_in_the_thread_and_posts_the_bijdrage(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    card = casus_post(teams).card
    press = card_submit(
        teams.connector.url, card, casus.message_id or "", user=KARIM, thread=casus.message_id
    )
    await ok(teams, press)
    form = teams.connector.last("reply")
    assert form.conversation_id == f"{CHANNEL};messageid={casus.message_id}"
    assert_valid_teams_card(form.card)
    assert list(inputs_of(form.card)) == ["bijdrage"]
    assert CLEAN["titel"] in card_text(form.card)
    await submit(teams, form, {"bijdrage": "Betrek de school pas later."}, user=KARIM)
    posted = teams.connector.last("send")
    assert posted.conversation_id == f"{CHANNEL};messageid={casus.message_id}"
    assert_valid_teams_card(posted.card)
    assert "Betrek de school pas later." in card_text(posted.card)
    assert "<at>Karim El Amrani</at>" in card_text(posted.card)
    bijdrage = teams.rows(Bijdrage)[0]
    assert bijdrage.message_id == posted.response_id
    assert "Verstuurd" in card_text(teams.connector.last("update").card)


# --- closing ----------------------------------------------------------------------------------


async def test_only_the_inbrenger_can_close_and_closing_stores_posts_and_updates(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    card = casus_post(teams).card
    close = 1
    await ok(
        teams,
        card_submit(
            teams.connector.url,
            card,
            casus.message_id or "",
            action=close,
            user=KARIM,
            thread=casus.message_id,
        ),
    )
    # Teams has no ephemeral messages: the refusal goes to Karim in a 1:1 chat.
    refusal = teams.connector.messages()[-1]
    assert refusal.method == "send"
    assert refusal.conversation_id == teams.connector.last("create").response_id
    assert "inbrenger" in card_text(refusal.card)
    assert "<at>Anna de Vries</at>" in card_text(refusal.card)
    forms_before = [s for s in teams.connector.calls("reply") if "actions" in s.card]
    assert len(forms_before) == 1  # only the intake form: no close form for Karim

    await ok(
        teams,
        card_submit(
            teams.connector.url, card, casus.message_id or "", action=close, thread=casus.message_id
        ),
    )
    close_form = teams.connector.last("reply")
    assert (
        len([s for s in teams.connector.calls("reply") if "actions" in s.card])
        == len(forms_before) + 1
    )
    assert_valid_teams_card(close_form.card)
    assert list(inputs_of(close_form.card)) == ["inzicht", "stap"]
    values = {
        "inzicht": "Vertrouwen gaat voor snelheid.",
        "stap": "Morgen bel ik de moeder zonder agenda.",
    }
    await submit(teams, close_form, values)
    note = teams.connector.last("send")
    assert note.conversation_id == f"{CHANNEL};messageid={casus.message_id}"
    assert "Morgen bel ik de moeder zonder agenda." in card_text(note.card)
    updates = [u for u in teams.connector.calls("update") if u.activity_id == casus.message_id]
    assert len(updates) == 1
    assert updates[0].conversation_id == CHANNEL
    assert "actions" not in updates[0].card  # no buttons on a closed casus
    assert "Afgerond" in card_text(updates[0].card)
    closed = teams.rows(Casus)[-1]
    assert closed.status == CasusStatus.CLOSED
    assert (closed.insight, closed.next_step) == (values["inzicht"], values["stap"])
    assert closed.closed_at is not None


async def test_a_form_for_a_casus_that_no_longer_exists_says_so_and_stores_nothing(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    card = casus_post(teams).card
    await ok(
        teams,
        card_submit(
            teams.connector.url, card, casus.message_id or "", user=KARIM, thread=casus.message_id
        ),
    )
    form = teams.connector.last("reply")
    with teams.services.database.session() as session:
        gone = session.get(Casus, casus.id)
        assert gone is not None
        session.delete(gone)
    await submit(teams, form, {"bijdrage": "Nog een gedachte."}, user=KARIM)
    update = teams.connector.last("update")
    assert update.activity_id == form.response_id  # the form card now says why
    assert card_text(update.card) == TEXTS.get("casus.close_form.not_found")
    assert "actions" not in update.card
    assert teams.count(Bijdrage) == 0


async def test_someone_elses_submission_of_a_form_card_leaves_the_card_alone(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    card = casus_post(teams).card
    await ok(
        teams,
        card_submit(
            teams.connector.url, card, casus.message_id or "", action=1, thread=casus.message_id
        ),
    )
    close_form = teams.connector.last("reply")
    updates_before = len(teams.connector.calls("update"))
    # Karim sees Anna's close form in the thread and submits it.
    await submit(teams, close_form, {"inzicht": "x", "stap": "y"}, user=KARIM)
    assert len(teams.connector.calls("update")) == updates_before
    refusal = teams.connector.last("send")
    assert refusal.conversation_id == teams.connector.last("create").response_id
    assert "inbrenger" in card_text(refusal.card)
    assert teams.rows(Casus)[-1].status == CasusStatus.OPEN
    # Anna's card still works for her.
    await submit(teams, close_form, {"inzicht": "Rust.", "stap": "Bellen."})
    assert teams.rows(Casus)[-1].status == CasusStatus.CLOSED


# --- identity, commands and bad input -----------------------------------------------------------


async def test_people_are_known_by_their_object_id_and_facilitators_by_it_too(
    teams: TeamsServer,
) -> None:
    await bring_in(teams, user=FLOOR)
    with teams.services.database.session() as session:
        member = session.scalars(select(Member)).one()
        assert member.platform_user_id == FLOOR.aad
        assert member.is_facilitator is True


async def test_help_and_an_unknown_word_get_a_clear_answer(teams: TeamsServer) -> None:
    await ok(teams, message(teams.connector.url, "help", kind="personal"))
    help_card = teams.connector.last("reply").card
    assert_valid_teams_card(help_card)
    assert "@Leerkring casus" in card_text(help_card)
    shown = card_text(help_card)
    from handlers.features import build_router

    for word in build_router().commands:  # every command, grouped per role, from one source
        if word != "leerkring":
            assert word in shown, word
    assert "Voor iedereen" in shown and "Voor begeleiders" in shown
    await ok(teams, message(teams.connector.url, "fietsen graag", mention_bot=True))
    answer = teams.connector.last("reply")
    assert "fietsen" in card_text(answer.card) and "casus" in card_text(answer.card)
    assert answer.conversation_id.startswith(CHANNEL)
    assert teams.count(Casus) == 0


@pytest.mark.parametrize("value", [{}, {"iets": "anders"}, {"leerkring": "form"}, "tekst"])
async def test_an_empty_or_foreign_card_submission_gets_a_clear_reply(
    teams: TeamsServer, value: Any
) -> None:
    activity = message(teams.connector.url, None, value=value, reply_to="1690000009999")
    await ok(teams, activity)
    answer = teams.connector.last("reply")
    assert TEXTS.rich("teams.form.empty").plain().split(".")[0] in card_text(answer.card)
    assert teams.count(Casus) == 0


async def test_an_activity_without_conversation_is_refused_and_nothing_is_stored(
    teams: TeamsServer,
) -> None:
    activity = message(teams.connector.url, "casus", mention_bot=True)
    del activity["conversation"]
    status, text = await teams.post(activity)
    assert status == 400
    assert json.loads(text) == {"error": "activity has no conversation"}
    assert teams.count(ConversationReference) == 0
    assert teams.connector.sent == []


@pytest.mark.parametrize(
    "body,content_type,status",
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('{"type": ""}', "application/json", 400),
        ("type=message", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_malformed_requests_get_4xx_without_traceback(
    teams: TeamsServer, body: str, content_type: str, status: int
) -> None:
    async with teams.http.post(
        f"{teams.url}/api/messages", data=body.encode(), headers={"Content-Type": content_type}
    ) as resp:
        assert resp.status == status
        assert "Traceback" not in await resp.text()
    assert teams.count(ConversationReference) == 0


async def test_an_unreachable_service_url_is_logged_and_the_server_stays_up(
    teams: TeamsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    dead = "http://127.0.0.1:9/"
    status, _ = await teams.post(message(dead, "casus", mention_bot=True))
    assert status == 200
    assert "Teams reply in 19:kanaal" in caplog.text and "unreachable" in caplog.text
    async with teams.http.get(f"{teams.url}/status", headers=STATUS_HEADERS) as resp:
        assert resp.status == 200
        assert (await resp.json())["teams"] == "emulator"
    await open_intake(teams)  # the next request works


async def test_a_post_the_connector_refuses_keeps_the_form_and_stores_nothing(
    teams: TeamsServer,
) -> None:
    form = await open_intake(teams)
    teams.connector.fail["send"] = 403
    await submit(teams, form, CLEAN)
    update = teams.connector.last("update")
    assert update.activity_id == form.response_id
    # A 403 means the bot may not post there: say so, as on Slack.
    assert TEXTS.get("general.not_in_channel") in card_text(update.card)
    assert inputs_of(update.card)["titel"]["value"] == CLEAN["titel"]
    assert teams.count(Casus) == 0  # the unposted casus was removed again
    del teams.connector.fail["send"]
    await submit(teams, form, CLEAN)
    assert teams.count(Casus) == 1


async def test_the_bot_is_not_addressed_by_other_mentions(teams: TeamsServer) -> None:
    await ok(teams, message(teams.connector.url, "casus", mention=KARIM))
    assert teams.connector.messages() == []
    assert teams.count(Casus) == 0


async def test_only_the_bots_own_mention_is_taken_out_of_the_command(teams: TeamsServer) -> None:
    form = await open_intake(teams, "Leerkring evaluatie met <at>x</at>")
    assert inputs_of(form.card)["titel"]["value"] == "Leerkring evaluatie met x"


async def test_after_a_restart_form_errors_come_back_as_a_reply_naming_the_fields(
    database_target: DatabaseTarget, connector: ConnectorStandIn
) -> None:
    async with aiohttp.ClientSession() as http:
        first = await start_server(emulator_env(database_target.url), connector, http)
        form = await open_intake(first)
        await first.runner.cleanup()
        second = await start_server(emulator_env(database_target.url), connector, http)
        try:
            await submit(second, form, {**CLEAN, "titel": "", "situatie": f"BSN {BSN}"})
            answer = connector.last("reply")
            text = card_text(answer.card)
            assert "Titel (Dit veld is verplicht.)" in text
            assert "Wat is er gebeurd? (" in text and "BSN" in text
            assert BSN not in connector.everything()
            assert second.count(Casus) == 0
            await submit(second, form, CLEAN)  # the same card still works
            assert second.count(Casus) == 1
        finally:
            await second.runner.cleanup()


def _dead_database() -> Database:
    return Database.from_url(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1}
    )


async def test_a_database_outage_keeps_the_form_and_the_server_up(teams: TeamsServer) -> None:
    form = await open_intake(teams)
    real = teams.services.runtime.database
    teams.services.runtime.database = _dead_database()
    try:
        await submit(teams, form, CLEAN)
    finally:
        teams.services.runtime.database.dispose()
        teams.services.runtime.database = real
    update = teams.connector.last("update")
    assert update.activity_id == form.response_id
    assert "niets bewaard" in card_text(update.card)
    assert inputs_of(update.card)["situatie"]["value"] == CLEAN["situatie"]  # nothing lost
    assert teams.count(Casus) == 0
    async with teams.http.get(f"{teams.url}/healthz") as resp:
        assert resp.status == 200
    await submit(teams, form, CLEAN)  # after recovery the same card goes through
    assert teams.count(Casus) == 1


async def test_a_thread_reply_during_an_outage_gets_503_then_its_redelivery_is_stored(
    teams: TeamsServer,
) -> None:
    casus = await bring_in(teams)
    reply = message(teams.connector.url, "Goede vraag!", user=KARIM, thread=casus.message_id)
    real = teams.services.runtime.database
    teams.services.runtime.database = _dead_database()
    try:
        status, _ = await teams.post(reply)
        assert status == 503  # Teams delivers it again
    finally:
        teams.services.runtime.database.dispose()
        teams.services.runtime.database = real
    assert teams.count(Bijdrage) == 0
    await ok(teams, reply)
    assert [b.text for b in teams.rows(Bijdrage)] == ["Goede vraag!"]
