"""Neutral replies to Block Kit: valid per slack_sdk's models and within Slack's limits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.render import (
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_MODAL_TITLE,
    MAX_SECTION,
    decode_metadata,
    encode_metadata,
    escape,
    form_values,
    mrkdwn,
    plain,
    render_card,
    render_form,
    split_text,
    truncate_escaped,
)
from handlers.casus.chat import ACTION_CLOSE, ACTION_THINK_ALONG, casus_card, intake_form
from handlers.core.events import Place
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

# Hypothesis must not write an example database into the repository.
_SETTINGS = settings(database=None, deadline=None, max_examples=150)

TEXTS = load_texts("nl")
PLACE = Place("slack", "C1", "T1", "leerkring")
READ_MORE = TEXTS.rich("casus.card.read_more")
CONTINUED = TEXTS.rich("casus.card.continued")
# An entity or a mention cut in half would show as garbage or not notify.
_ENTITY = re.compile(r"&(amp|lt|gt);")
_MENTION = re.compile(r"<@[A-Z0-9]+>")


def make_casus(**overrides: Any) -> Casus:
    fields: dict[str, Any] = {
        "id": 7,
        "title": "Gezin met schulden weigert hulp",
        "situation": "Een moeder met drie kinderen heeft huurachterstand & wil geen hulp.",
        "obstacle": "Eerdere hulpverleners namen haar niet serieus.",
        "uncertainty": "Moet ik de school <betrekken>?",
        "question": "Hoe bouw ik vertrouwen op zonder te pushen? <!channel>",
        "perspectives": ["schulden", "jeugd"],
        "status": CasusStatus.OPEN,
        **overrides,
    }
    return Casus(**fields)


def validate_blocks(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        if block["type"] == "section":
            assert block["text"]["text"].strip(), "Slack refuses an empty section text"


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def assert_no_partial_tokens(chunk: str) -> None:
    """Every ``&`` starts a whole entity and every ``<`` a whole mention, inside this chunk."""
    without = _MENTION.sub("", _ENTITY.sub("", chunk))
    assert "&" not in without, chunk
    assert "<" not in without, chunk
    assert ">" not in without, chunk


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- cards ------------------------------------------------------------------------------------


def test_casus_card_is_valid_block_kit() -> None:
    rendered = render_card(casus_card(make_casus(), TEXTS, "U1"))
    validate_blocks(rendered.blocks)
    assert rendered.overflow == []
    assert [b["type"] for b in rendered.blocks][:2] == ["header", "context"]
    actions = [b for b in rendered.blocks if b["type"] == "actions"]
    assert len(actions) == 1
    buttons = actions[0]["elements"]
    assert [b["action_id"] for b in buttons] == [ACTION_THINK_ALONG, ACTION_CLOSE]
    assert [b["value"] for b in buttons] == ["7", "7"]
    assert buttons[0]["style"] == "primary"
    assert "<@U1>" in rendered.blocks[1]["elements"][0]["text"]
    assert "<@U1>" in rendered.text
    # The bold label is converted; user text is escaped and never pings.
    joined = "\n".join(section_texts(rendered.blocks))
    assert "*Situatie*" in joined
    assert "huurachterstand &amp; wil" in joined
    assert "&lt;!channel&gt;" in joined
    assert "<!channel>" not in joined
    assert all(b["text"]["verbatim"] for b in rendered.blocks if b["type"] == "section")


def test_closed_casus_card_has_no_buttons() -> None:
    rendered = render_card(casus_card(make_casus(status=CasusStatus.CLOSED), TEXTS, "U1"))
    validate_blocks(rendered.blocks)
    assert "actions" not in [b["type"] for b in rendered.blocks]


def test_every_block_kind_renders() -> None:
    card = Card(
        (
            Header("Kop"),
            Section(rich("**{a}**", a="x"), fields=tuple(rich("{n}", n=n) for n in range(12))),
            Context(rich("klein")),
            Divider(),
            Actions((Button("a", "B" * 200, "v" * 3000, style="danger"),)),
        ),
        fallback=rich("terugval"),
    )
    rendered = render_card(card)
    validate_blocks(rendered.blocks)
    assert [b["type"] for b in rendered.blocks] == [
        "header",
        "section",
        "context",
        "divider",
        "actions",
    ]
    assert len(rendered.blocks[1]["fields"]) == 10
    button = rendered.blocks[4]["elements"][0]
    assert len(button["text"]["text"]) <= 75
    assert len(button["value"]) <= 2000
    assert rendered.text == "terugval"


def test_very_long_casus_is_split_and_overflows_into_the_thread() -> None:
    situation = " ".join(f"woord{i}&<x>" for i in range(2000))[:20_000]
    rendered = render_card(
        casus_card(make_casus(situation=situation), TEXTS, "U1"), READ_MORE, CONTINUED
    )
    validate_blocks(rendered.blocks)
    assert len(rendered.blocks) <= MAX_BLOCKS
    texts = section_texts(rendered.blocks)
    assert len(texts) > 5  # 20,000 characters need several sections
    assert all(len(t) <= MAX_SECTION for t in texts)
    for text in texts:
        assert_no_partial_tokens(text)
    assert rendered.overflow == []  # fits in 50 blocks
    # Nothing of the situation was lost on the way.
    assert squash(escape(situation)) in squash("".join(texts))


def test_card_with_120_sections_keeps_the_buttons_and_overflows() -> None:
    header = Header("H" * 400)
    sections = tuple(Section(rich("Deel {n}: {t} eind{n}.", n=n, t="x" * 3500)) for n in range(120))
    buttons = Actions((Button(ACTION_CLOSE, "Afronden", "1"),))
    card = Card((header, *sections, buttons, Context(rich("voet"))), fallback=rich("f"))
    rendered = render_card(card, READ_MORE, CONTINUED)

    validate_blocks(rendered.blocks)
    assert len(rendered.blocks) <= MAX_BLOCKS
    assert len(rendered.blocks[0]["text"]["text"]) <= MAX_HEADER
    assert all(len(t) <= MAX_SECTION for t in section_texts(rendered.blocks))
    assert any(b["type"] == "actions" for b in rendered.blocks)
    last = rendered.blocks[-1]
    assert last["type"] == "context"
    assert last["elements"][0]["text"] == mrkdwn(READ_MORE)
    assert "lees verder" in last["elements"][0]["text"]
    assert rendered.overflow
    assert rendered.overflow[0] == mrkdwn(CONTINUED)
    # Every part of every section is either in the message or in the overflow, none is lost.
    everywhere = "\n".join(section_texts(rendered.blocks) + rendered.overflow)
    for n in range(120):
        assert f"Deel {n}:" in everywhere, n
        assert f"eind{n}." in everywhere, n


def test_render_card_escapes_in_mrkdwn_and_plain_text() -> None:
    nasty = "<!channel> <!here> <@U1> a & b"
    card = Card(
        (
            Header(nasty),
            Section(rich("{t}", t=nasty)),
            Context(rich("{t}", t=nasty)),
            Actions((Button("x", nasty, "1"),)),
        ),
        fallback=rich("{t}", t=nasty),
    )
    rendered = render_card(card)
    validate_blocks(rendered.blocks)
    expected = "&lt;!channel&gt; &lt;!here&gt; &lt;@U1&gt; a &amp; b"
    header, section, context, actions = rendered.blocks
    assert header["text"] == {"type": "plain_text", "text": expected, "emoji": True}
    assert section["text"]["text"] == expected
    assert context["elements"][0]["text"] == expected
    assert actions["elements"][0]["text"]["text"] == expected
    assert rendered.text == expected


def test_mention_param_is_a_real_mention() -> None:
    text = mrkdwn(rich("**{who}** zegt {t}", who=Mention("U42"), t="<@U1>"))
    assert text == "*<@U42>* zegt &lt;@U1&gt;"


def test_long_header_is_truncated_with_an_ellipsis() -> None:
    block = render_card(Card((Header("a" * 400),), rich("f"))).blocks[0]
    Block.parse(block).validate_json()  # type: ignore[union-attr]
    assert len(block["text"]["text"]) <= MAX_HEADER
    assert block["text"]["text"].endswith("…")


def test_long_header_of_ampersands_keeps_entities_whole() -> None:
    text = plain("&" * 400, MAX_HEADER)["text"]
    assert len(text) <= MAX_HEADER
    assert text.endswith("…")
    assert_no_partial_tokens(text[:-1])


def test_empty_plain_text_is_not_empty() -> None:
    assert plain("", 10)["text"].strip() == ""
    assert plain("", 10)["text"] != ""


# --- split_text -------------------------------------------------------------------------------


def test_split_text_short_text_is_one_chunk() -> None:
    assert split_text("kort") == ["kort"]
    assert split_text("") == [""]


def test_split_text_prefers_line_breaks() -> None:
    text = "a" * 60 + "\n" + "b" * 60
    assert split_text(text, 100) == ["a" * 60, "b" * 60]


@pytest.mark.parametrize("offset", range(12))
def test_split_text_never_cuts_an_entity_or_mention(offset: int) -> None:
    text = "x" * (90 + offset) + "&amp;<@U123>" * 30
    chunks = split_text(text, 100)
    assert all(len(c) <= 100 for c in chunks)
    for chunk in chunks:
        assert_no_partial_tokens(chunk)
    assert "".join(chunks) == text


_ALPHABET = st.sampled_from(
    [
        *"abcdefgh",
        *"&<>",
        " ",
        " ",
        "\n",
        "\t",
        "😀",
        "👩‍👧",
        "🇳🇱",
        "שָׁלוֹם",
        "مرحبا",
        "\u200f",
        "é",
        "ß",
        "*",
        "_",
        "~",
        "`",
    ]
)
_USER_TEXT = st.lists(_ALPHABET, max_size=400).map("".join)


def _mentions_and_text() -> st.SearchStrategy[str]:
    piece = st.one_of(
        _USER_TEXT.map(escape),
        st.from_regex(r"U[A-Z0-9]{1,9}", fullmatch=True).map(lambda u: f"<@{u}>"),
    )
    return st.lists(piece, max_size=12).map("".join)


@_SETTINGS
@given(text=_mentions_and_text(), limit=st.integers(min_value=20, max_value=300))
@example(text=" " * 60 + "\n" + "x" * 200, limit=100)
@example(text="&amp;" * 100, limit=20)
@example(text="<@U123456789>" * 20, limit=20)
def test_split_text_properties(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert chunks
    assert all(len(c) <= limit for c in chunks)
    if text.strip():
        assert all(c.strip() for c in chunks), chunks
    assert squash("".join(chunks)) == squash(text)
    for chunk in chunks:
        assert_no_partial_tokens(chunk)
    if len(text) > limit:
        # A cut only drops whitespace: every chunk is a piece of the original, in order.
        position = 0
        for chunk in chunks:
            found = text.find(chunk, position)
            assert found != -1, (chunk, text)
            position = found + len(chunk)


@_SETTINGS
@given(text=_USER_TEXT, limit=st.integers(min_value=8, max_value=200))
def test_truncated_plain_text_keeps_entities_whole(text: str, limit: int) -> None:
    out = plain(text, limit)["text"]
    assert len(out) <= limit
    if out.endswith("…") and len(escape(text or " ")) > limit:
        out = out[:-1]
    assert_no_partial_tokens(out)
    assert escape(text or " ").startswith(out.rstrip())


@_SETTINGS
@given(
    user=st.lists(_USER_TEXT.filter(lambda s: s.strip()), min_size=1, max_size=4),
    repeat=st.integers(min_value=1, max_value=40),
)
def test_rendered_sections_stay_within_limits(user: list[str], repeat: int) -> None:
    text = " ".join(user) * repeat
    card = Card(
        (Header(text), Section(rich("**Label**\n{t}", t=text)), Context(rich("{t}", t=text))),
        fallback=rich("{t}", t=text),
    )
    rendered = render_card(card, READ_MORE, CONTINUED)
    validate_blocks(rendered.blocks)
    assert len(rendered.blocks) <= MAX_BLOCKS
    for block in rendered.blocks:
        if block["type"] == "section":
            assert_no_partial_tokens(block["text"]["text"])
            assert "<!" not in block["text"]["text"]
    body = "".join(section_texts(rendered.blocks))
    assert squash(body) == squash("*Label*\n" + escape(text))
    assert len(rendered.text) <= 3000


def test_truncate_escaped_does_not_cut_an_entity() -> None:
    for n in range(1, 12):
        out = truncate_escaped("a" * n + "&amp;" * 10, 12)
        assert len(out) <= 12
        assert_no_partial_tokens(out[:-1])


# --- forms ------------------------------------------------------------------------------------


def test_intake_form_renders_a_valid_modal() -> None:
    view = render_form(intake_form(TEXTS, "Mijn <titel> & meer"), PLACE)
    View(**view).validate_json()
    validate_blocks(view["blocks"])
    assert view["callback_id"] == "casus_intake"
    assert view["title"]["text"] == "Casus inbrengen"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["titel", "situatie", "knelpunt", "onzeker", "vraag", "perspectieven"]
    titel = inputs["titel"]["element"]
    assert titel["type"] == "plain_text_input"
    assert titel["max_length"] == 150
    assert titel["initial_value"] == "Mijn <titel> & meer"
    assert inputs["situatie"]["element"]["max_length"] == 2500
    assert inputs["situatie"]["element"]["multiline"] is True
    assert "initial_value" not in inputs["situatie"]["element"]
    assert inputs["titel"]["optional"] is False
    assert inputs["knelpunt"]["optional"] is True
    select = inputs["perspectieven"]["element"]
    assert select["type"] == "multi_static_select"
    assert [o["value"] for o in select["options"]] == [p.id for p in TEXTS.perspectives]
    metadata, place = decode_metadata(view["private_metadata"])
    assert metadata == {}
    assert place == PLACE


def test_modal_title_and_buttons_fit_even_when_too_long() -> None:
    form = Form(
        "f",
        "Een veel te lange titel voor een modal venster",
        "Verzenden naar iedereen in de groep",
        "Annuleren en terug",
        (TextInput("a", "Label", max_length=10_000, initial="x"),),
        metadata={"casus_id": 3},
    )
    view = render_form(form, None)
    View(**view).validate_json()
    for key in ("title", "submit", "close"):
        assert len(view[key]["text"]) <= MAX_MODAL_TITLE
    assert view["blocks"][0]["element"]["max_length"] == 3000
    assert decode_metadata(view["private_metadata"]) == ({"casus_id": 3}, None)


def test_form_values_reads_text_and_multi_select() -> None:
    view = {
        "state": {
            "values": {
                "titel": {"titel": {"type": "plain_text_input", "value": "Een titel"}},
                "knelpunt": {"knelpunt": {"type": "plain_text_input", "value": None}},
                "perspectieven": {
                    "perspectieven": {
                        "type": "multi_static_select",
                        "selected_options": [
                            {"text": {"type": "plain_text", "text": "J"}, "value": "jeugd"},
                            {"text": {"type": "plain_text", "text": "S"}, "value": "schulden"},
                        ],
                    }
                },
                "leeg": {"leeg": {"type": "multi_static_select", "selected_options": None}},
                "een": {
                    "een": {"type": "static_select", "selected_option": {"value": "wonen"}},
                },
                "kapot": "geen dict",
            }
        }
    }
    assert form_values(view) == {
        "titel": "Een titel",
        "knelpunt": "",
        "perspectieven": ("jeugd", "schulden"),
        "leeg": (),
        "een": "wonen",
    }
    assert form_values({}) == {}
    assert form_values({"state": None}) == {}


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "niet json",
        "{",
        "[1, 2, 3]",
        "null",
        '"tekst"',
        "42",
        "{}",
        '{"m": [1, 2], "p": "C1"}',
        '{"m": null, "p": null}',
        '{"p": [1, 2, 3]}',
        '{"p": ["C1"]}',
    ],
)
def test_decode_metadata_survives_garbage(raw: str | None) -> None:
    metadata, place = decode_metadata(raw)
    assert dict(metadata) == {}
    assert place is None


def test_decode_metadata_ignores_wrongly_typed_place_parts() -> None:
    metadata, place = decode_metadata(json.dumps({"m": {"casus_id": 1}, "p": ["C1", 5, {"x": 1}]}))
    assert metadata == {"casus_id": 1}
    assert place == Place("slack", "C1", None, None)


def test_metadata_round_trip_and_limit() -> None:
    form = Form("f", "t", "s", "c", (), metadata={"casus_id": 12, "naam": "é & <x>"})
    metadata, place = decode_metadata(encode_metadata(form, PLACE))
    assert metadata == {"casus_id": 12, "naam": "é & <x>"}
    assert place == PLACE
    too_big = Form("f", "t", "s", "c", (), metadata={"x": "y" * 3000})
    with pytest.raises(ValueError, match="private_metadata"):
        encode_metadata(too_big, None)
