"""The text files facilitators edit: every language complete, consistent and within limits."""

from __future__ import annotations

import re

import pytest

from prompts import LANGUAGES, Texts, load_texts

PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Slack's limits for modal title, submit and close buttons, and for text inputs.
MODAL_TEXT_MAX = 24
INPUT_MAX = 3000
OPTION_MAX = 75
PLACEHOLDER_MAX = 150
FORMS = ("casus.form", "casus.reply_form", "casus.close_form")


@pytest.fixture(params=LANGUAGES)
def texts(request: pytest.FixtureRequest) -> Texts:
    return load_texts(request.param)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_languages_are_nl_and_en() -> None:
    assert set(LANGUAGES) == {"nl", "en"}


def test_same_keys_in_every_language() -> None:
    nl, en = load_texts("nl"), load_texts("en")
    assert nl.keys()
    assert nl.keys() == en.keys(), {
        "only_nl": sorted(nl.keys() - en.keys()),
        "only_en": sorted(en.keys() - nl.keys()),
    }


def test_same_placeholders_per_key() -> None:
    nl, en = load_texts("nl"), load_texts("en")
    differing = {
        key: (sorted(placeholders(nl.get(key))), sorted(placeholders(en.get(key))))
        for key in sorted(nl.keys())
        if placeholders(nl.get(key)) != placeholders(en.get(key))
    }
    assert differing == {}


def test_same_questions_and_perspectives() -> None:
    nl, en = load_texts("nl"), load_texts("en")
    assert [q.id for q in nl.casus_questions] == [q.id for q in en.casus_questions]
    for q_nl, q_en in zip(nl.casus_questions, en.casus_questions, strict=True):
        assert (q_nl.kind, q_nl.required, q_nl.multiline, q_nl.max_length) == (
            q_en.kind,
            q_en.required,
            q_en.multiline,
            q_en.max_length,
        ), q_nl.id
    assert [p.id for p in nl.perspectives] == [p.id for p in en.perspectives]


def test_every_text_renders_with_its_placeholders_filled(texts: Texts) -> None:
    for key in sorted(texts.keys()):
        names = placeholders(texts.get(key))
        rendered = texts.rich(key, **{name: f"<{name}>" for name in names}).plain()
        assert rendered.strip(), key
        assert PLACEHOLDER.search(rendered) is None, key
        for name in names:
            assert f"<{name}>" in rendered, (key, name)


def test_every_text_misses_a_placeholder_loudly(texts: Texts) -> None:
    for key in sorted(texts.keys()):
        if placeholders(texts.get(key)):
            with pytest.raises(KeyError):
                texts.rich(key).plain()


def test_bold_markup_is_balanced(texts: Texts) -> None:
    unbalanced = [key for key in sorted(texts.keys()) if texts.get(key).count("**") % 2]
    assert unbalanced == []


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        load_texts("de")


def test_missing_key_raises_key_error(texts: Texts) -> None:
    with pytest.raises(KeyError):
        texts.get("casus.bestaat_niet")
    with pytest.raises(KeyError):
        texts.get("casus.form")  # a table, not a text


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("part", ["title", "submit", "cancel"])
def test_modal_texts_fit_slack(texts: Texts, form: str, part: str) -> None:
    text = texts.get(f"{form}.{part}")
    assert 0 < len(text) <= MODAL_TEXT_MAX, text


def test_questions_fit_slack(texts: Texts) -> None:
    questions = texts.casus_questions
    ids = [q.id for q in questions]
    assert len(ids) == len(set(ids))
    # The intake handler reads these ids and stores the title in a String(150) column.
    assert {"titel", "situatie", "vraag"} <= set(ids)
    assert texts.question("titel").required
    assert texts.question("titel").max_length is not None
    assert texts.question("titel").max_length <= 150
    for q in questions:
        assert q.kind in {"text", "choices"}, q.id
        if q.kind == "text":
            assert q.max_length is not None, q.id
            assert 0 < q.max_length <= INPUT_MAX, q.id
        assert q.label.strip(), q.id
        if q.placeholder:
            assert len(q.placeholder) <= PLACEHOLDER_MAX, q.id
    assert [q.id for q in questions if q.kind == "choices"] == ["perspectieven"]


def test_perspectives_fit_slack(texts: Texts) -> None:
    ids = [p.id for p in texts.perspectives]
    assert ids
    assert len(ids) == len(set(ids))
    for perspective in texts.perspectives:
        assert 0 < len(perspective.label) <= OPTION_MAX, perspective.id
        assert texts.perspective_label(perspective.id) == perspective.label
    assert texts.perspective_label("onbekend") == "onbekend"
