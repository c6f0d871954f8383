"""Pseudonymisation and the hard/soft split, without a chat platform."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.core.forms import FieldRule
from handlers.privacy.flow import (
    CHECK,
    NOT_CLIENT,
    PRIVACY_FIELD,
    PSEUDONYMISE,
    check_submission,
    pseudonymise,
    pseudonymise_posted,
    screen,
)
from handlers.privacy.guard import Category, Finding, GuardNotReady, StructuredGuard
from prompts import load_texts

NL = load_texts("nl")
EN = load_texts("en")


def _find(fields: Mapping[str, str], *items: tuple[str, Category, str]) -> list[Finding]:
    findings = []
    for field_id, category, value in items:
        start = fields[field_id].index(value)
        findings.append(Finding(field_id, category, "xx", start, start + len(value)))
    return findings


def test_the_same_name_gets_the_same_placeholder_within_a_submission() -> None:
    fields = {
        "situatie": "Fatima belt vaak. Haar zoon Daan is 7. Later belde fatima weer uit Utrecht.",
        "vraag": "Hoe help ik Fatima en Daan?",
    }
    occurrences = [
        ("situatie", Category.PERSON, "Fatima"),
        ("situatie", Category.PERSON, "Daan"),
        ("situatie", Category.PERSON, "fatima"),
        ("situatie", Category.PLACE, "Utrecht"),
        ("vraag", Category.PERSON, "Fatima"),
        ("vraag", Category.PERSON, "Daan"),
    ]
    result = pseudonymise(fields, _find(fields, *occurrences), NL)
    assert result["situatie"] == (
        "[PERSOON-1] belt vaak. Haar zoon [PERSOON-2] is 7. Later belde [PERSOON-1] weer uit "
        "[PLAATS-1]."
    )
    assert result["vraag"] == "Hoe help ik [PERSOON-1] en [PERSOON-2]?"
    # Running it again on the same input gives the same text: stable, not random.
    assert pseudonymise(fields, _find(fields, *occurrences), NL) == result


def test_placeholders_follow_the_language_and_hard_identifiers_keep_their_marker() -> None:
    fields = {"s": "Jan de Vries, BSN 111222333."}
    findings = [*_find(fields, ("s", Category.PERSON, "Jan de Vries"))]
    findings += StructuredGuard().check(fields)
    assert pseudonymise(fields, findings, EN)["s"] == "[PERSON-1], BSN [BSN]."


class _NamesGuard:
    def check(self, fields: Mapping[str, str]) -> list[Finding]:
        found = StructuredGuard().check(fields)
        for field_id, text in fields.items():
            if "Jan" in text:
                start = text.index("Jan")
                found.append(Finding(field_id, Category.PERSON, "Ja*", start, start + 3))
        return found


def test_screen_blocks_hard_identifiers_and_hands_soft_findings_back() -> None:
    rules = [FieldRule("a"), FieldRule("b")]
    result = screen({"a": "Jan belt", "b": "BSN 111222333"}, rules, NL, _NamesGuard())
    assert set(result.errors) == {"b"}
    assert [(f.field_id, f.category) for f in result.soft] == [("a", Category.PERSON)]


def test_check_submission_applies_the_choice() -> None:
    rules = [FieldRule("a", required=True)]
    values = {"a": "Jan belt morgen."}
    warned = check_submission(values, rules, NL, _NamesGuard(), CHECK)
    assert set(warned.errors) == {PRIVACY_FIELD} and not warned.pseudonymised
    # Anything that is not one of the two answers warns too: never let a name through unasked.
    assert set(check_submission(values, rules, NL, _NamesGuard(), "raar").errors) == {PRIVACY_FIELD}
    kept = check_submission(values, rules, NL, _NamesGuard(), NOT_CLIENT)
    assert (kept.errors, kept.values) == ({}, values)
    replaced = check_submission(values, rules, NL, _NamesGuard(), PSEUDONYMISE)
    assert replaced.errors == {} and replaced.pseudonymised
    assert replaced.values == {"a": "[PERSOON-1] belt morgen."}
    # Hard identifiers block whatever was chosen; a required field left empty too.
    blocked = check_submission({"a": "BSN 111222333"}, rules, NL, _NamesGuard(), NOT_CLIENT)
    assert set(blocked.errors) == {"a"}
    assert set(check_submission({"a": ""}, rules, NL, _NamesGuard(), PSEUDONYMISE).errors) == {"a"}


def test_pseudonymise_posted_replaces_everything_and_falls_back_when_names_cannot_wait() -> None:
    stored, findings = pseudonymise_posted("t", "Jan: 06-12345678", _NamesGuard(), NL)
    assert stored == "[PERSOON-1]: [PHONE]"
    assert {f.category for f in findings} == {Category.PERSON, Category.PHONE}

    class _NotReady:
        def check(self, fields: Mapping[str, str]) -> list[Finding]:
            raise GuardNotReady

    stored, findings = pseudonymise_posted("t", "Jan: 06-12345678", _NotReady(), NL)
    assert stored == "Jan: [PHONE]"  # identifiers still stay out of the store
