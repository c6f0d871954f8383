"""The casus handlers without any platform: events in, typed replies out, a real database.

Everything goes through ``Runtime.handle_sync`` (one transaction per event, deduplication) on
SQLite and PostgreSQL. No Slack, aiohttp or botbuilder is imported here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.runtime import Outcome, Runtime
from handlers.casus.chat import ACTION_CLOSE, CLOSE_FORM, INTAKE_FORM
from handlers.casus.queries import casus_repo
from handlers.core.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    FormValue,
    MessageRef,
    Place,
    ThreadMessage,
)
from handlers.core.forms import clean_text
from handlers.core.replies import (
    Actions,
    Ephemeral,
    FormErrors,
    Header,
    Mention,
    MultiSelect,
    OpenForm,
    PostMessage,
    Record,
    Reply,
    TextInput,
    UpdateMessage,
    rich,
)
from handlers.features import build_router
from handlers.privacy.guard import Finding, GuardNotReady, StructuredGuard
from prompts import Texts, load_texts
from storage.db import Database
from storage.models import Bijdrage, Casus, CasusStatus, Channel, Member, PostedMessage

PLACE = Place("slack", "C1", "T1", "leerkring")
INBRENGER = Actor("slack", "U1", "Inge", "T1")
COLLEGA = Actor("slack", "U2", "Karim", "T1")
MESSAGE_ID = "123.456"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
BSN = "111222333"

CLEAN: dict[str, FormValue] = {
    "titel": "Gezin met schulden weigert hulp",
    "situatie": "Een moeder met drie kinderen heeft huurachterstand en wil geen hulp.",
    "knelpunt": "Eerdere hulpverleners namen haar niet serieus.",
    "onzeker": "Moet ik de school betrekken?",
    "vraag": "Hoe bouw ik vertrouwen op zonder te pushen?",
    "perspectieven": ("schulden", "jeugd"),
}

R = TypeVar("R")


# --- helpers ----------------------------------------------------------------------------------


def make_runtime(database: Database, language: str = "nl") -> Runtime:
    return Runtime(
        database,
        build_router(),
        load_texts(language),
        StructuredGuard(),
        facilitators=frozenset({"UFAC01"}),
        clock=lambda: NOW,
    )


@pytest.fixture
def runtime(database: Database) -> Runtime:
    return make_runtime(database)


@pytest.fixture
def texts() -> Texts:
    return load_texts("nl")


def handle(runtime: Runtime, event: Event) -> list[Reply]:
    outcome = runtime.handle_sync(event)
    assert outcome.failure is None, outcome
    assert not outcome.duplicate
    return outcome.replies


def only(replies: Sequence[Reply], kind: type[R]) -> R:
    assert len(replies) == 1, replies
    reply = replies[0]
    assert isinstance(reply, kind), replies
    return reply


def rows(database: Database, model: type[R]) -> list[R]:
    with database.session() as session:
        return list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]


def intake(values: dict[str, FormValue], actor: Actor = INBRENGER) -> FormSubmitted:
    return FormSubmitted(actor, PLACE, INTAKE_FORM, values)


def submit_casus(runtime: Runtime, values: dict[str, FormValue] | None = None) -> Record:
    post = only(handle(runtime, intake(values or CLEAN)), PostMessage)
    assert post.record_as is not None
    return post.record_as


def posted_casus(runtime: Runtime) -> int:
    """A casus that was submitted and confirmed posted at MESSAGE_ID; returns its id."""
    record = submit_casus(runtime)
    assert runtime.posted_sync(record, MessageRef("slack", "C1", MESSAGE_ID)) == []
    return record.object_id


def thread_message(text: str, event_id: str, thread_id: str = MESSAGE_ID) -> ThreadMessage:
    return ThreadMessage(COLLEGA, PLACE, thread_id, f"200.{event_id}", text, event_id)


def close_form(casus_id: int, actor: Actor = INBRENGER) -> FormSubmitted:
    return FormSubmitted(
        actor,
        None,
        CLOSE_FORM,
        {"inzicht": "Ik ga minder snel oplossen.", "stap": "Morgen bel ik de moeder."},
        metadata={"casus_id": casus_id},
    )


# --- opening the intake form ------------------------------------------------------------------


def test_casus_command_opens_the_intake_form(runtime: Runtime) -> None:
    form = only(
        handle(runtime, CommandInvoked(INBRENGER, PLACE, "casus", "  Mijn titel ")), OpenForm
    )
    assert form.form.form_id == INTAKE_FORM
    assert [f.field_id for f in form.form.fields] == [
        "titel",
        "situatie",
        "knelpunt",
        "onzeker",
        "vraag",
        "perspectieven",
    ]
    by_id = {f.field_id: f for f in form.form.fields}
    assert isinstance(by_id["titel"], TextInput)
    assert by_id["titel"].initial == "Mijn titel"
    assert by_id["titel"].required
    vraag = by_id["vraag"]
    assert isinstance(vraag, TextInput)
    assert (vraag.initial, vraag.required, vraag.multiline) == (None, True, True)
    perspectives = by_id["perspectieven"]
    assert isinstance(perspectives, MultiSelect)
    assert [o.value for o in perspectives.options] == [p.id for p in load_texts("nl").perspectives]


def test_casus_command_truncates_the_prefilled_title(runtime: Runtime) -> None:
    form = only(handle(runtime, CommandInvoked(INBRENGER, PLACE, "casus", "x" * 400)), OpenForm)
    titel = form.form.fields[0]
    assert isinstance(titel, TextInput)
    assert titel.initial == "x" * 150
    assert titel.max_length == 150


def test_casus_command_without_text_has_no_initial_title(runtime: Runtime) -> None:
    form = only(handle(runtime, CommandInvoked(INBRENGER, PLACE, "/CASUS")), OpenForm)
    titel = form.form.fields[0]
    assert isinstance(titel, TextInput)
    assert titel.initial is None


# --- intake submission ------------------------------------------------------------------------


def test_missing_required_fields_are_named_and_nothing_is_stored(
    runtime: Runtime, database: Database, texts: Texts
) -> None:
    errors = only(handle(runtime, intake({"titel": "Alleen een titel"})), FormErrors).errors
    assert set(errors) == {"situatie", "vraag"}
    assert all(e == texts.get("general.field_required") for e in errors.values())
    assert rows(database, Casus) == []
    assert rows(database, Member) == []
    assert rows(database, Channel) == []


def test_whitespace_only_counts_as_missing(runtime: Runtime, database: Database) -> None:
    values = {**CLEAN, "situatie": " \n\t\x00 ", "vraag": "   "}
    errors = only(handle(runtime, intake(values)), FormErrors).errors
    assert set(errors) == {"situatie", "vraag"}
    assert rows(database, Casus) == []


def test_too_long_field_is_refused(runtime: Runtime, database: Database) -> None:
    errors = only(handle(runtime, intake({**CLEAN, "vraag": "v" * 1001})), FormErrors).errors
    assert set(errors) == {"vraag"}
    assert "1000" in errors["vraag"]
    assert "1001" in errors["vraag"]
    assert rows(database, Casus) == []


@pytest.mark.parametrize(
    ("field", "text", "identifier"),
    [
        ("situatie", "Het BSN van de moeder is 111222333, zegt de school.", "111222333"),
        ("knelpunt", "Huur gaat van NL91ABNA0417164300 af.", "NL91ABNA0417164300"),
        ("vraag", "Mag ik haar bellen op 06-12345678?", "06-12345678"),
        ("titel", "Moeder met BSN 111 222 333", "111 222 333"),
    ],
)
def test_identifier_in_a_field_is_refused_without_echoing_it(
    runtime: Runtime, database: Database, field: str, text: str, identifier: str
) -> None:
    errors = only(handle(runtime, intake({**CLEAN, field: text})), FormErrors).errors
    assert set(errors) == {field}
    assert identifier not in errors[field]
    assert identifier.replace(" ", "").replace("-", "") not in errors[field].replace(" ", "")
    assert load_texts("nl").get("privacy.intro") in errors[field]
    assert rows(database, Casus) == []
    assert rows(database, Member) == []


def test_clean_submission_stores_a_casus_on_its_way(runtime: Runtime, database: Database) -> None:
    values = {**CLEAN, "titel": "  Gezin\x00 met schulden ", "perspectieven": ("schulden", "nep")}
    post = only(handle(runtime, intake(values)), PostMessage)
    assert post.place == PLACE
    assert post.thread_id is None
    [casus] = rows(database, Casus)
    assert post.record_as == Record("casus", casus.id)
    assert casus.status == CasusStatus.POSTING  # until the post is recorded
    assert casus.message_id is None
    assert casus.title == "Gezin met schulden"
    assert casus.situation == CLEAN["situatie"]
    assert casus.question == CLEAN["vraag"]
    assert casus.perspectives == ["schulden"]  # unknown ids are dropped
    assert isinstance(post.content.blocks[0], Header)
    assert post.content.blocks[0].text == "Gezin met schulden"
    assert any(isinstance(b, Actions) for b in post.content.blocks)
    [member] = rows(database, Member)
    assert (member.platform_user_id, member.display_name) == ("U1", "Inge")
    assert not member.is_facilitator
    assert rows(database, PostedMessage) == []


def test_optional_fields_may_be_empty(runtime: Runtime, database: Database) -> None:
    values = {"titel": "Titel", "situatie": "Situatie", "vraag": "Vraag?"}
    only(handle(runtime, intake(values)), PostMessage)
    [casus] = rows(database, Casus)
    assert (casus.obstacle, casus.uncertainty, casus.perspectives) == (None, None, [])


def test_facilitator_is_marked(runtime: Runtime, database: Database) -> None:
    submit_casus(runtime)
    handle(runtime, intake(CLEAN, actor=Actor("slack", "UFAC01")))
    members = {m.platform_user_id: m.is_facilitator for m in rows(database, Member)}
    assert members == {"U1": False, "UFAC01": True}


# --- posting ----------------------------------------------------------------------------------


def test_posted_marks_the_casus_open(runtime: Runtime, database: Database) -> None:
    record = submit_casus(runtime)
    replies = runtime.posted_sync(record, MessageRef("slack", "C1", MESSAGE_ID))
    assert replies == []
    [casus] = rows(database, Casus)
    assert casus.status == CasusStatus.OPEN
    assert casus.message_id == MESSAGE_ID
    [posted] = rows(database, PostedMessage)
    assert (posted.platform, posted.channel_ref, posted.message_id) == ("slack", "C1", MESSAGE_ID)
    assert (posted.kind, posted.object_id) == ("casus", casus.id)


def test_post_failed_removes_the_pending_casus(
    runtime: Runtime, database: Database, texts: Texts
) -> None:
    record = submit_casus(runtime)
    notice = only(runtime.post_failed_sync(record, "not_in_channel"), Ephemeral)
    assert notice.text.plain() == texts.get("general.not_in_channel")
    assert rows(database, Casus) == []
    assert rows(database, PostedMessage) == []


def test_post_failed_for_another_reason_is_a_generic_error(
    runtime: Runtime, database: Database, texts: Texts
) -> None:
    record = submit_casus(runtime)
    notice = only(runtime.post_failed_sync(record, "ratelimited"), Ephemeral)
    assert notice.text.plain() == texts.get("general.error_generic")
    assert rows(database, Casus) == []


def test_post_failed_keeps_an_open_casus(runtime: Runtime, database: Database) -> None:
    casus_id = posted_casus(runtime)
    only(runtime.post_failed_sync(Record("casus", casus_id), "not_in_channel"), Ephemeral)
    [casus] = rows(database, Casus)
    assert casus.status == CasusStatus.OPEN


# --- bijdragen in the thread ------------------------------------------------------------------


def test_thread_reply_is_stored_once(runtime: Runtime, database: Database) -> None:
    casus_id = posted_casus(runtime)
    event = thread_message("Ik zou eerst luisteren.", "Ev1")
    assert handle(runtime, event) == []
    again = runtime.handle_sync(event)
    assert again == Outcome(duplicate=True)
    [bijdrage] = rows(database, Bijdrage)
    assert (bijdrage.casus_id, bijdrage.text) == (casus_id, "Ik zou eerst luisteren.")
    assert bijdrage.message_id == "200.Ev1"
    assert [m.platform_user_id for m in rows(database, Member)] == ["U1", "U2"]


def test_same_message_with_a_new_delivery_id_is_stored_once(
    runtime: Runtime, database: Database
) -> None:
    posted_casus(runtime)
    first = thread_message("Goed punt.", "Ev1")
    handle(runtime, first)
    handle(runtime, ThreadMessage(**{**vars(first), "event_id": "Ev1-retry"}))
    assert len(rows(database, Bijdrage)) == 1


def test_thread_reply_under_an_unknown_thread_is_ignored(
    runtime: Runtime, database: Database
) -> None:
    posted_casus(runtime)
    assert handle(runtime, thread_message("Losse draad", "Ev2", thread_id="999.999")) == []
    assert rows(database, Bijdrage) == []


class StallingGuard(StructuredGuard):
    """A name-aware guard that answers the first call and then is no longer ready."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        self.calls.append(len(fields))
        if len(self.calls) > 1:
            raise GuardNotReady("stalled")
        return super().check(fields)


def test_a_batch_of_replies_is_checked_a_few_at_a_time_and_never_unchecked(
    runtime: Runtime, database: Database
) -> None:
    posted_casus(runtime)
    runtime.guard = guard = StallingGuard()
    events = [thread_message(f"Reactie {n}, BSN {BSN}", f"EvG{n}") for n in range(25)]
    outcomes = runtime.handle_batch_sync(events)
    assert [o.failure for o in outcomes] == [None] * 25
    # Ten per call; once the guard is not ready, the rest of the batch does not wait for it
    # again and still gets the identifier checks.
    assert guard.calls == [10, 10]
    texts = [b.text for b in rows(database, Bijdrage)]
    assert len(texts) == 25 and all(BSN not in t and "[BSN]" in t for t in texts)
    for outcome in outcomes:
        only(outcome.replies, Ephemeral)  # every author is told


def test_thread_reply_with_a_bsn_is_stored_redacted(runtime: Runtime, database: Database) -> None:
    posted_casus(runtime)
    replies = handle(runtime, thread_message("Haar BSN is 111222333, klopt dat?", "Ev3"))
    notice = only(replies, Ephemeral)
    assert "111222333" not in notice.text.plain()
    [bijdrage] = rows(database, Bijdrage)
    assert bijdrage.text == "Haar BSN is [BSN], klopt dat?"
    assert "111222333" not in bijdrage.text


def test_empty_thread_reply_is_ignored(runtime: Runtime, database: Database) -> None:
    posted_casus(runtime)
    assert handle(runtime, thread_message(" \x00\n ", "Ev4")) == []
    assert rows(database, Bijdrage) == []


# --- closing ----------------------------------------------------------------------------------


def test_only_the_inbrenger_may_close(runtime: Runtime, database: Database) -> None:
    casus_id = posted_casus(runtime)
    press = ButtonPressed(COLLEGA, PLACE, ACTION_CLOSE, str(casus_id), MESSAGE_ID)
    notice = only(handle(runtime, press), Ephemeral)
    assert notice.text.params["inbrenger"] == Mention("U1")
    assert "@U1" in notice.text.plain()
    # Submitting the close form directly is refused as well.
    refused = only(handle(runtime, close_form(casus_id, actor=COLLEGA)), Ephemeral)
    assert "@U1" in refused.text.plain()
    [casus] = rows(database, Casus)
    assert casus.status == CasusStatus.OPEN


def test_inbrenger_closes_the_casus(runtime: Runtime, database: Database, texts: Texts) -> None:
    casus_id = posted_casus(runtime)
    handle(runtime, thread_message("Bijdrage een", "Ev5"))
    handle(runtime, thread_message("Bijdrage twee", "Ev6"))

    press = ButtonPressed(INBRENGER, PLACE, ACTION_CLOSE, str(casus_id), MESSAGE_ID)
    form = only(handle(runtime, press), OpenForm).form
    assert form.form_id == CLOSE_FORM
    assert dict(form.metadata) == {"casus_id": casus_id}
    assert [f.field_id for f in form.fields] == ["inzicht", "stap"]

    replies = handle(runtime, close_form(casus_id))
    assert len(replies) == 2
    note, update = replies
    assert isinstance(note, PostMessage)
    assert note.thread_id == MESSAGE_ID
    assert note.place.channel_id == "C1"
    assert "2" in note.content.blocks[0].text.plain()  # type: ignore[union-attr]
    assert isinstance(update, UpdateMessage)
    assert update.message_id == MESSAGE_ID
    assert not any(isinstance(b, Actions) for b in update.content.blocks)

    [casus] = rows(database, Casus)
    assert casus.status == CasusStatus.CLOSED
    assert casus.insight == "Ik ga minder snel oplossen."
    assert casus.next_step == "Morgen bel ik de moeder."
    assert casus.closed_at == NOW

    again = only(handle(runtime, close_form(casus_id)), Ephemeral)
    assert "al afgerond" in again.text.plain()
    pressed_again = only(handle(runtime, press), Ephemeral)
    assert pressed_again.text.plain() == texts.get("casus.close_form.already_closed")


def test_close_with_empty_fields_keeps_the_form_open(runtime: Runtime, database: Database) -> None:
    casus_id = posted_casus(runtime)
    event = FormSubmitted(INBRENGER, None, CLOSE_FORM, {"inzicht": " "}, {"casus_id": casus_id})
    errors = only(handle(runtime, event), FormErrors).errors
    assert set(errors) == {"inzicht", "stap"}
    assert rows(database, Casus)[0].status == CasusStatus.OPEN


@pytest.mark.parametrize("value", ["999999", "geen-getal", ""])
def test_close_button_for_an_unknown_casus(runtime: Runtime, value: str, texts: Texts) -> None:
    press = ButtonPressed(INBRENGER, PLACE, ACTION_CLOSE, value)
    notice = only(handle(runtime, press), Ephemeral)
    assert notice.text.plain() == texts.get("casus.close_form.not_found")


# --- routing ----------------------------------------------------------------------------------


def test_unknown_command(runtime: Runtime) -> None:
    notice = only(handle(runtime, CommandInvoked(INBRENGER, PLACE, "oogst")), Ephemeral)
    assert "/oogst" in notice.text.plain()


def test_unknown_action_and_form(runtime: Runtime, texts: Texts) -> None:
    press = ButtonPressed(INBRENGER, PLACE, "bestaat_niet", "1")
    notice = only(handle(runtime, press), Ephemeral)
    assert notice.text.plain() == texts.get("general.unknown_action")
    form = FormSubmitted(INBRENGER, PLACE, "bestaat_niet", {})
    assert only(handle(runtime, form), Ephemeral).text.plain() == texts.get(
        "general.unknown_action"
    )


def test_english_texts(database: Database) -> None:
    runtime = make_runtime(database, "en")
    form = only(handle(runtime, CommandInvoked(INBRENGER, PLACE, "casus")), OpenForm).form
    assert form.title == "Bring in a case"
    assert form.fields[0].label == "Title"
    errors = only(handle(runtime, intake({"titel": "x"})), FormErrors).errors
    assert errors["situatie"] == "This field is required."
    unknown = only(handle(runtime, CommandInvoked(INBRENGER, PLACE, "x")), Ephemeral)
    assert unknown.text.plain().startswith("I don't know the command")


# --- pure helpers -----------------------------------------------------------------------------


def test_clean_text_strips_nul_and_control_characters() -> None:
    assert clean_text("  a\x00b\x07c\x1b\x7f\r\nd\te \n") == "abc\nd\te"
    assert clean_text("\x00") == ""
    assert clean_text("cafe\u0301") == "café"  # NFC


def _slack_like_escape(text: str) -> str:
    return html.escape(text, quote=False)


def test_rich_never_interprets_params_as_markup() -> None:
    template = rich("**{a}** {who}", a="**x** <!channel> & _y_", who=Mention("U9"))
    rendered = template.render(
        escape=_slack_like_escape,
        mention=lambda uid: f"<@{uid}>",
        markup=lambda s: s.replace("**", "*"),
    )
    assert rendered == "*" + "**x** &lt;!channel&gt; &amp; _y_" + "* <@U9>"
    assert "<!channel>" not in rendered
    assert template.plain() == "**x** <!channel> & _y_ @U9"


def test_rich_param_with_braces_and_tokens_is_literal() -> None:
    text = rich("{a}-{b}", a="{b}", b="\ue000" + "0\ue001")
    assert text.plain() == "{b}-\ue0000\ue001"


def test_rich_missing_param_raises_key_error() -> None:
    with pytest.raises(KeyError, match="b"):
        rich("{a} en {b}", a="x").plain()


def test_approving_a_pseudonymised_draft_twice_at_once_posts_it_once(database: Database) -> None:
    """A double click on "plaats zo": two concurrent requests, one post."""
    from concurrent.futures import ThreadPoolExecutor

    from handlers.casus.chat import ACTION_APPROVE

    runtime = Runtime(database, build_router(), load_texts("nl"), StructuredGuard())

    def draft(ctx: Any) -> int:
        channel = ctx.repos.channels.ensure("slack", "C1")
        member = ctx.repos.members.ensure("slack", "U1")
        casus = casus_repo(ctx).add(
            channel=channel, inbrenger=member, title="[PERSOON-1] en de school",
            situation="s", obstacle=None, uncertainty=None, question="v", perspectives=[],
        )  # fmt: skip
        return casus.id

    casus_id = runtime.call_sync(draft)
    press = ButtonPressed(Actor("slack", "U1"), Place("slack", "C1"), ACTION_APPROVE, str(casus_id))
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(runtime.handle_sync, [press, press]))
    posts = [r for o in outcomes for r in o.replies if isinstance(r, PostMessage)]
    assert len(posts) == 1
    assert all(o.failure is None for o in outcomes)
