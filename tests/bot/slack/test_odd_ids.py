"""Ids from outside are parsed strictly (handlers/ids.py): "²".isdigit() is true but int("²")
raises, and an id past the INTEGER columns' range makes the database driver raise (SQLite
past 2^63, PostgreSQL past 2^31). Every button value, form metadata id and number field
answers the feature's own "not found" text or a field error: never "Er ging iets mis", never
a traceback. Signed requests through the real server, on both databases."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.form_seal import FormSeal, form_key
from handlers.casus import chat as casus
from handlers.reflection import chat as reflection
from handlers.speedsparren.common import ACTION_JOIN, ACTION_TAKEAWAY, FORM_TAKEAWAY
from prompts import load_texts
from storage.models import Schedule
from tests.bot.slack.test_casus_flow import post
from tests.conftest import RunningServer
from tests.support.signing import block_action, command_body, interactive_body, view_submission

TEXTS = load_texts("nl")
ODD = ["²", "٣", "１", "0", "-1", "+1", " 1", str(2**31), str(2**63), str(2**64 + 1)]
TROUBLE = "Er ging iets mis"


def text_of(key: str, **params: Any) -> str:
    return TEXTS.rich(key, **params).plain()


async def notice_after(server: RunningServer, body: str) -> str:
    before = len(server.slack.calls_to("chat.postEphemeral"))
    status, text = await post(server, body)
    assert status == 200, text
    calls = await server.slack.wait_for("chat.postEphemeral", before + 1)
    return str(calls[-1]["text"]).replace("*", "")  # the text, without mrkdwn's bold


BUTTONS = [
    (casus.ACTION_THINK_ALONG, "U333", "casus.close_form.not_found", {}),
    (casus.ACTION_CLOSE, "U111", "casus.close_form.not_found", {}),
    (casus.ACTION_APPROVE, "U111", "privacy.preview.gone", {}),
    (ACTION_JOIN, "U333", "speedsparren.not_found", {}),
    (ACTION_TAKEAWAY, "U333", "speedsparren.not_found", {}),
    ("oogsten_deel", "UFAC01", "oogsten.gone", {}),
    (reflection.ACTION_PAUSE, "UFAC01", "reflectie.not_found", {"id": None}),
    (reflection.ACTION_RESUME, "UFAC01", "reflectie.not_found", {"id": None}),
    (reflection.ACTION_DELETE, "UFAC01", "reflectie.not_found", {"id": None}),
    (reflection.ACTION_SEND_NOW, "UFAC01", "reflectie.not_found", {"id": None}),
    (reflection.ACTION_ANSWER, "U333", "reflectie.prompt.run_gone", {}),
]


@pytest.mark.parametrize(("action", "user", "key", "params"), BUTTONS, ids=[b[0] for b in BUTTONS])
async def test_an_odd_id_in_a_button_value_is_not_found(
    server: RunningServer,
    caplog: pytest.LogCaptureFixture,
    action: str,
    user: str,
    key: str,
    params: dict[str, Any],
) -> None:
    for value in ODD:
        if action == "oogsten_deel":
            value = f"{value}@C100"
        answer = await notice_after(
            server, interactive_body(block_action(action, value, user=user))
        )
        shown = {k: (value if v is None else v) for k, v in params.items()}
        expected = text_of(key, **shown)
        assert answer == expected, (value, answer)
        assert TROUBLE not in answer
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


FORMS = [
    (casus.REPLY_FORM, "casus_id", "casus.close_form.not_found"),
    (casus.CLOSE_FORM, "casus_id", "casus.close_form.not_found"),
    (reflection.FORM_ANSWER, "run_id", "reflectie.prompt.run_gone"),
    (FORM_TAKEAWAY, "session_id", "speedsparren.not_found"),
]


@pytest.mark.parametrize(("form_id", "field", "key"), FORMS, ids=[f[0] for f in FORMS])
async def test_an_odd_id_in_form_metadata_is_not_found(
    server: RunningServer, caplog: pytest.LogCaptureFixture, form_id: str, field: str, key: str
) -> None:
    """Sealed with the server's own key, as if the bot had opened such a form: the parser is
    the last line, behind the seal (tests/bot/slack/test_form_seal.py)."""
    seal = FormSeal(form_key(server.services.settings))
    place = ["C100", "T1", None]
    for value in [*ODD, 2**31, 2**63, -5, 1.5, None, [1], {"a": 1}, True]:
        metadata = {field: value}
        raw = {"m": metadata, "p": place, "s": seal.sign(form_id, metadata, place)}
        view = {
            "callback_id": form_id,
            "title": {"type": "plain_text", "text": "Formulier"},
            "blocks": [],
            "private_metadata": json.dumps(raw),
        }
        answer = await notice_after(
            server, interactive_body(view_submission(view, {}, user="U111"))
        )
        assert answer == text_of(key), (value, answer)
        assert TROUBLE not in answer
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_an_odd_number_of_hours_in_the_schedule_form_is_a_field_error(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    status, _ = await post(server, command_body("/reflectie", "", user="UFAC01"))
    assert status == 200
    await post(server, interactive_body(block_action(reflection.ACTION_ADD, "new", user="UFAC01")))
    form = (await server.slack.wait_for("views.open"))[-1]["view"]
    assert form["callback_id"] == reflection.FORM_SCHEDULE
    for value in ["²", "٣", "１", "0", "337", "-1", str(2**63)]:
        values = {"wanneer": "elke vrijdag om 15:00", "venster": value}
        status, text = await post(
            server, interactive_body(view_submission(form, values, user="UFAC01"))
        )
        assert status == 200, text
        answer = json.loads(text)
        assert answer["response_action"] == "errors", (value, answer)
        assert answer["errors"] == {"venster": TEXTS.get("reflectie.form.window_bad")}
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_cron_rule_with_other_digits_is_a_field_error_and_nothing_is_stored(
    server: RunningServer,
) -> None:
    await post(server, interactive_body(block_action(reflection.ACTION_ADD, "new", user="UFAC01")))
    form = (await server.slack.wait_for("views.open"))[-1]["view"]
    values = {"wanneer": "٣ 9 * * *", "venster": "48"}
    status, text = await post(
        server, interactive_body(view_submission(form, values, user="UFAC01"))
    )
    assert status == 200, text
    answer = json.loads(text)
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["wanneer"]
    with server.database.session() as session:
        assert session.scalars(select(Schedule)).all() == []
