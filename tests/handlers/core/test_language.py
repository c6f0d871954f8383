"""Plurals, dates and schedule words through Babel, in Dutch and English; no English in a
Dutch message about a schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.core.schedules import RuleError, describe_rule, parse_rule
from prompts import load_texts

FRIDAY_1500 = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # 15:00 in Amsterdam


@pytest.mark.parametrize(
    ("language", "number", "expected"),
    [
        ("nl", 0, "0 bijdragen"),
        ("nl", 1, "1 bijdrage"),
        ("nl", 3, "3 bijdragen"),
        ("en", 1, "1 contribution"),
        ("en", 2, "2 contributions"),
    ],
)
def test_counted_words_follow_the_plural_rules(language: str, number: int, expected: str) -> None:
    assert load_texts(language).count("bijdrage", number) == expected


def test_every_counted_word_has_a_form_for_every_plural_category() -> None:
    for language in ("nl", "en"):
        texts = load_texts(language)
        for word, forms in texts.table("count").items():
            assert set(forms) == {"one", "other"}, (language, word)
            assert texts.count(word, 1) != texts.count(word, 2).replace("2", "1"), word


def test_moments_are_written_out_in_the_language() -> None:
    nl, en = load_texts("nl"), load_texts("en")
    zone = "Europe/Amsterdam"
    assert nl.moment(FRIDAY_1500, zone) == "vrijdag 4 december om 15:00"
    assert en.moment(FRIDAY_1500, zone) == "Friday 4 December at 15:00"
    same_day = FRIDAY_1500.replace(hour=8)
    assert nl.moment(FRIDAY_1500, zone, same_day) == "15:00"
    assert nl.day(FRIDAY_1500.date()) == "vrijdag 4 december 2026"


def test_a_cron_rule_is_described_with_dutch_month_and_day_names() -> None:
    nl = load_texts("nl")
    described = describe_rule(parse_rule("0 15 * 3 fri"), nl)
    assert "maart" in described and "vrijdag" in described
    assert "March" not in described and "Friday" not in described
    assert "March" in describe_rule(parse_rule("0 15 * 3 fri"), load_texts("en"))


@pytest.mark.parametrize(
    ("rule", "dutch"),
    [
        ("0 15 * drie fri", "de maand ‘drie’ klopt niet"),
        ("99 15 * * *", "de minuut ‘99’ klopt niet"),
        ("vrijdag", "er staat geen tijd in"),
        ("blub 15:00", "het woord ‘blub’ ken ik hier niet"),
        ("vrijdag 25:00", "de tijd 25:00 bestaat niet"),
    ],
)
def test_a_rule_that_cannot_be_read_is_explained_in_dutch(rule: str, dutch: str) -> None:
    texts = load_texts("nl")
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    problem = caught.value.explain(texts)
    assert dutch in problem
    message = texts.rich("reflectie.bad_rule", problem=problem).plain()
    for english in ("invalid", "Invalid", "month", "name", "cron rule", "unknown"):
        assert english not in message, message
