"""Neutral replies to Adaptive Cards: valid for Teams, people's text shown literally."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.teams.render import (
    MAX_CARD_BYTES,
    ButtonSubmission,
    CancelSubmission,
    FormSubmission,
    Run,
    lines,
    neutral,
    parse_submission,
    plain,
    render_card,
    render_form,
    render_notice,
)
from handlers.casus.chat import casus_card, intake_form
from handlers.core.replies import (
    Actions,
    Button,
    Card,
    Context,
    Divider,
    Form,
    Header,
    Mention,
    Section,
    TextInput,
    rich,
)
from prompts import load_texts
from storage.models import Casus, CasusStatus
from tests.support.teams_standin import assert_valid_teams_card, card_text, inputs_of

_SETTINGS = settings(database=None, deadline=None, max_examples=150)
TEXTS = load_texts("nl")
NAMES = {"aad-1": "Anna de Vries"}
SOMEONE = "een collega"


def make_casus(**overrides: Any) -> Casus:
    fields: dict[str, Any] = {
        "id": 7,
        "title": "Gezin met schulden weigert hulp",
        "situation": "Een moeder met drie kinderen heeft huurachterstand & wil geen hulp.",
        "obstacle": "Eerdere hulpverleners namen haar niet serieus.",
        "uncertainty": "Moet ik de school <betrekken>?",
        "question": "Hoe bouw ik vertrouwen op zonder te pushen?",
        "perspectives": ["schulden", "jeugd"],
        "status": CasusStatus.OPEN,
        **overrides,
    }
    return Casus(**fields)


def test_template_markup_becomes_styled_runs_and_params_keep_the_style_around_them() -> None:
    text = rich("**{label}**\n{text} en _{extra}_", label="Situatie", text="a **b**", extra="c")
    assert lines(text) == [
        [Run("Situatie", bold=True)],
        [Run("a **b**"), Run(" en "), Run("c", italic=True)],
    ]


def test_mentions_are_runs_of_their_own() -> None:
    text = TEXTS.rich("casus.card.brought_in_by", inbrenger=Mention("aad-1"))
    assert lines(text) == [[Run("Ingebracht door "), Run("", mention="aad-1")]]


def test_a_line_with_a_mention_is_a_text_block_with_an_entity() -> None:
    card = render_notice(
        TEXTS.rich("casus.reply_form.posted", author=Mention("aad-1"), text="Ik **zou** [x](y)"),
        NAMES,
        SOMEONE,
    ).card
    assert_valid_teams_card(card)
    first, second = card["body"]
    assert first == {
        "type": "TextBlock",
        "text": "**Bijdrage van <at>Anna de Vries</at>:**",
        "wrap": True,
    }
    assert second == {
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": "Ik **zou** [x](y)"}],
    }
    assert card["msteams"]["entities"][0]["mentioned"] == {"id": "aad-1", "name": "Anna de Vries"}


def test_an_unknown_person_is_named_in_plain_text_without_an_entity() -> None:
    card = render_notice(
        TEXTS.rich("casus.card.brought_in_by", inbrenger=Mention("aad-9")), NAMES, SOMEONE
    ).card
    assert card_text(card) == "Ingebracht door een collega"
    assert "entities" not in card["msteams"]


def test_user_text_on_a_mention_line_loses_its_markdown() -> None:
    text = rich(
        "{who} schreef: {text}", who=Mention("aad-1"), text="**vet** [link](https://x) <at>Z</at>"
    )
    (block,) = render_notice(text, NAMES, SOMEONE).card["body"]
    assert block["type"] == "TextBlock"
    user_part = block["text"].split("schreef: ", 1)[1]
    for raw in ("**", "[", "](", "<at>"):
        assert raw not in user_part
    assert user_part == neutral("**vet** [link](https://x) <at>Z</at>")


def test_the_casus_card_is_valid_with_header_sections_context_and_buttons() -> None:
    rendered = render_card(casus_card(make_casus(), TEXTS, "aad-1"), NAMES, SOMEONE)
    card = rendered.card
    assert_valid_teams_card(card)
    assert card["version"] == "1.5"
    assert card["body"][0]["inlines"][0] == {
        "type": "TextRun",
        "text": "Gezin met schulden weigert hulp",
        "size": "Large",
        "weight": "Bolder",
    }
    assert "Moet ik de school <betrekken>?" in card_text(card)
    assert [a["data"] for a in card["actions"]] == [
        {"leerkring": "button", "action_id": "casus_denk_mee", "value": "7"},
        {"leerkring": "button", "action_id": "casus_afronden", "value": "7"},
    ]
    assert card["actions"][0]["style"] == "positive"
    assert rendered.summary == "Nieuwe casus van Anna de Vries: Gezin met schulden weigert hulp"


def test_a_closed_casus_has_no_buttons() -> None:
    card = render_card(
        casus_card(make_casus(status=CasusStatus.CLOSED), TEXTS, "aad-1"), NAMES, SOMEONE
    ).card
    assert_valid_teams_card(card)
    assert "actions" not in card
    assert "Afgerond" in card_text(card)


def test_divider_context_and_danger_buttons() -> None:
    card = render_card(
        Card(
            (
                Section(rich("boven")),
                Divider(),
                Context(rich("klein")),
                Actions((Button("weg", "Verwijderen", "1", style="danger"),)),
            ),
            fallback=rich("x"),
        ),
        {},
        SOMEONE,
    ).card
    assert_valid_teams_card(card)
    assert card["body"][1]["separator"] is True
    assert card["body"][1]["inlines"][0]["isSubtle"] is True
    assert card["actions"][0]["style"] == "destructive"


def test_a_huge_card_is_shortened_to_fit_one_teams_message() -> None:
    huge = "😀" * 6000
    card = render_card(
        Card((Header("x"), Section(rich("{a}", a=huge)), Section(rich("{b}", b=huge))), rich("x")),
        {},
        SOMEONE,
    ).card
    assert len(json.dumps(card).encode()) <= MAX_CARD_BYTES
    assert_valid_teams_card(card)
    assert card_text(card).count("…") == 2


def test_the_intake_form_round_trips_through_a_submission() -> None:
    form = intake_form(TEXTS, "Mijn titel")
    card = render_form(form, {}, SOMEONE, required_text="Verplicht").card
    assert_valid_teams_card(card)
    inputs = inputs_of(card)
    assert inputs["titel"]["value"] == "Mijn titel"
    assert inputs["titel"]["isRequired"] is True and inputs["titel"]["errorMessage"] == "Verplicht"
    assert "isRequired" not in inputs["knelpunt"]
    submitted = {
        **card["actions"][0]["data"],
        "titel": "T",
        "situatie": "S",
        "perspectieven": "jeugd,ggz",
    }
    parsed = parse_submission(submitted)
    assert isinstance(parsed, FormSubmission)
    assert parsed.form_id == "casus_intake"
    assert parsed.values["titel"] == "T" and parsed.values["knelpunt"] == ""
    assert parsed.values["perspectieven"] == ("jeugd", "ggz")
    assert parsed.labels["titel"] == "Titel"
    cancel = parse_submission(card["actions"][1]["data"])
    assert cancel == CancelSubmission("casus_intake")
    assert card["actions"][1]["associatedInputs"] == "none"


def test_a_form_shown_again_keeps_values_and_puts_errors_under_their_fields() -> None:
    form = Form(
        "f",
        "Titel",
        "OK",
        "Stop",
        (TextInput("a", "A", required=True), TextInput("b", "B", hint="Tip")),
        metadata={"casus_id": 3},
    )
    card = render_form(
        form,
        {},
        SOMEONE,
        values={"a": "typed", "b": ""},
        errors={"b": "Fout"},
        notice=rich("Let op"),
    ).card
    assert_valid_teams_card(card)
    kinds = [(item["type"], item.get("id")) for item in card["body"]]
    assert kinds == [
        ("RichTextBlock", None),  # title
        ("RichTextBlock", None),  # notice
        ("Input.Text", "a"),
        ("Input.Text", "b"),
        ("RichTextBlock", None),  # the error under b
        ("RichTextBlock", None),  # then its hint
    ]
    assert card["body"][4]["inlines"][0] == {
        "type": "TextRun",
        "text": "Fout",
        "color": "Attention",
    }
    assert inputs_of(card)["a"]["value"] == "typed"
    assert card["actions"][0]["data"]["metadata"] == {"casus_id": 3}


def test_submissions_that_are_not_ours_are_recognised() -> None:
    assert parse_submission(None) is None
    assert parse_submission({}) is None
    assert parse_submission({"leerkring": "form"}) is None
    assert parse_submission({"leerkring": "form", "form_id": "x"}) is None
    assert parse_submission({"leerkring": "button", "action_id": "", "value": "1"}) is None
    assert parse_submission({"leerkring": "button", "action_id": "a", "value": "1"}) == (
        ButtonSubmission("a", "1")
    )


def test_plain_text_names_people_and_drops_markup() -> None:
    text = TEXTS.rich(
        "casus.close_form.closed_note",
        inbrenger=Mention("aad-1"),
        insight="**i**",
        next_step="s",
        contributions=TEXTS.count("bijdrage", 2),
    )
    assert plain(text, NAMES, SOMEONE).startswith("Anna de Vries heeft de casus afgerond.")
    assert "**i**" in plain(text, NAMES, SOMEONE)  # user text is kept as typed


@_SETTINGS
@given(st.text(max_size=300))
@example("**x** _y_ [a](b) <at>Anna de Vries</at> \\ # ` ~ \n\n - lijst")
@example("\ue010\ue011\ue012\ue013")
def test_any_user_text_stays_literal_in_runs_and_out_of_markdown(value: str) -> None:
    card = render_card(
        Card(
            (
                Header(value),
                Section(rich("**Situatie**\n{text}", text=value)),
                Context(rich("{who}: {text}", who=Mention("aad-1"), text=value)),
            ),
            fallback=rich("{text}", text=value),
        ),
        NAMES,
        SOMEONE,
    ).card
    assert_valid_teams_card(card)
    header, *rest = card["body"]
    assert header["inlines"][0]["text"] == value
    runs = "\n".join(
        "".join(i["text"] for i in item["inlines"])
        for item in rest
        if item["type"] == "RichTextBlock"
    )
    # Every line of the user's text is in the section, literally (our own markers dropped).
    for line in value.translate({c: None for c in range(0xE010, 0xE014)}).split("\n"):
        if line.strip():
            assert line in runs
    for item in card["body"]:
        if item["type"] == "TextBlock":
            user_part = item["text"].split(": ", 1)[1] if ": " in item["text"] else ""
            for raw in ("**", "[", "<", "_", "`"):
                assert raw not in user_part
    assert [e["mentioned"]["id"] for e in card["msteams"]["entities"]] == ["aad-1"]
