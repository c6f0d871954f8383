"""The method library a facilitator edits: both languages alike, and a broken edit reported
with its file and line."""

from __future__ import annotations

import re

import pytest

from handlers.werksessie.methods import (
    KINDS,
    SPEAKERS,
    MethodFileError,
    load_methods,
    method_file,
    parse_methods,
)
from prompts import LANGUAGES

PLACEHOLDER = re.compile(r"\{(\w+)\}")
SHIPPED = ["incidentmethode", "vijf_keer_waarom", "schrijf_eerst", "waarderend_onderzoek", "alact"]


def test_both_languages_have_the_same_methods_phases_and_placeholders() -> None:
    nl, en = load_methods("nl"), load_methods("en")
    assert list(nl) == list(en) == SHIPPED
    for key in nl:
        assert len(nl[key].phases) == len(en[key].phases), key
        for a, b in zip(nl[key].phases, en[key].phases, strict=True):
            assert (a.speaks, a.kind, a.minutes, a.days, a.followup_days) == (
                b.speaks,
                b.kind,
                b.minutes,
                b.days,
                b.followup_days,
            )
            for text_nl, text_en in ((a.title, b.title), (a.instructions, b.instructions)):
                assert set(PLACEHOLDER.findall(text_nl)) == set(PLACEHOLDER.findall(text_en))
        assert set(PLACEHOLDER.findall(nl[key].when)) == set(PLACEHOLDER.findall(en[key].when))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_incidentmethode_has_its_seven_phases_and_minutes(language: str) -> None:
    method = load_methods(language)["incidentmethode"]
    assert [p.minutes for p in method.phases] == [5, 10, 15, 10, 10, 10, 5]
    assert method.minutes == 65
    assert [p.speaks for p in method.phases] == [
        "iedereen", "inbrenger", "iedereen", "niet_inbrenger", "niet_inbrenger", "inbrenger",
        "iedereen",
    ]  # fmt: skip
    assert [p.kind for p in method.phases][2] == "vragen"
    assert [p.kind for p in method.phases][5] == "afsluiting"
    for methods in (load_methods(language),):
        for found in methods.values():
            assert all(p.speaks in SPEAKERS and p.kind in KINDS for p in found.phases)
    assert [p.kind for p in load_methods(language)["schrijf_eerst"].phases].count(
        "schrijf_eerst"
    ) == 2


def _edited(old: str, new: str, count: int = 1) -> str:
    text = method_file("nl").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, count)


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(needle)


def test_a_broken_toml_edit_names_the_line() -> None:
    text = _edited('naam = "Vijf keer waarom"', 'naam = "Vijf keer waarom')
    with pytest.raises(MethodFileError) as caught:
        parse_methods(text, "nl/methoden.toml")
    message = str(caught.value)
    assert message.startswith("nl/methoden.toml: dit is geen geldige TOML")
    broken = _line(text, 'naam = "Vijf keer waarom')
    assert f"line {broken}" in message


def test_a_wrong_value_names_the_method_the_phase_and_the_line() -> None:
    # The third phase of the incidentmethode gets a speaker that does not exist.
    text = _edited(
        'spreekt = "iedereen"\nsoort = "vragen"', 'spreekt = "de anderen"\nsoort = "vragen"'
    )
    with pytest.raises(MethodFileError) as caught:
        parse_methods(text, "nl/methoden.toml")
    line = _line(text, 'spreekt = "de anderen"')
    assert str(caught.value) == (
        f"nl/methoden.toml, regel {line}: methode 'incidentmethode', fase 3: "
        "'spreekt' moet een van iedereen, niet_inbrenger, inbrenger zijn"
    )


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "minuten = 15\n",
            "minuten = 0\n",
            "'minuten' moet een heel getal van 1 tot en met 240 zijn",
        ),
        ("minuten = 15\n", 'minuten = "kwartier"\n', "'minuten' moet een heel getal"),
        ('soort = "vragen"', 'soort = "debat"', "'soort' moet een van open, vragen"),
        ("dagen = 2\n", "dagn = 2\n", "'dagen' moet een heel getal"),
        ("minuten = 15\n", "minuten = 15\nduur = 3\n", "onbekend veld 'duur'"),
    ],
)
def test_field_errors_are_clear(old: str, new: str, problem: str) -> None:
    text = _edited(old, new)
    with pytest.raises(MethodFileError) as caught:
        parse_methods(text, "nl/methoden.toml")
    message = str(caught.value)
    assert problem in message
    assert re.match(r"nl/methoden\.toml, regel \d+: methode 'incidentmethode', fase 3: ", message)
    line = int(re.findall(r"regel (\d+)", message)[0])
    shown = text.splitlines()[line - 1]
    if new.startswith("dagn"):  # a missing field: the line of its phase's header
        assert shown == "[[incidentmethode.fase]]"
    else:
        assert shown == new.strip().splitlines()[-1]


def test_a_method_without_phases_or_name_is_refused() -> None:
    with pytest.raises(MethodFileError, match=r"regel 1: methode 'leeg': heeft geen fasen"):
        parse_methods('[leeg]\nnaam = "Leeg"\nwanneer = "nooit"\n', "nl/methoden.toml")
    with pytest.raises(MethodFileError, match=r"regel 2: methode 'x': 'naam' ontbreekt"):
        parse_methods('\n[x]\nwanneer = "nu"\n', "nl/methoden.toml")
    with pytest.raises(MethodFileError, match="geen enkele methode"):
        parse_methods("", "en/methoden.toml")


def test_braces_in_a_method_text_are_refused_with_their_line() -> None:
    text = _edited("Kort, en alleen wie iets te melden heeft.", "Kort, {iedereen}.")
    with pytest.raises(MethodFileError) as caught:
        parse_methods(text, "nl/methoden.toml")
    line = _line(text, "Kort, {iedereen}.")
    assert str(caught.value).startswith(
        f"nl/methoden.toml, regel {line}: methode 'incidentmethode', fase 1: gebruik geen accolades"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_vijf_keer_waarom_grows_a_chain_and_alact_plans_the_next_cycle(language: str) -> None:
    methods = load_methods(language)
    assert [p.kind for p in methods["vijf_keer_waarom"].phases] == ["open", "keten", "afsluiting"]
    assert methods["vijf_keer_waarom"].phases[1].questions_only
    alact = methods["alact"].phases
    assert [p.followup_days for p in alact] == [None, None, None, None, 7]
    assert alact[3].kind == "afsluiting"  # the intention comes before trying it
    assert [p.kind for p in methods["waarderend_onderzoek"].phases][-1] == "afsluiting"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "'vervolg_dagen' moet een heel getal van 1 tot en met 365 zijn"),
        ('"een week"', "'vervolg_dagen' moet een heel getal"),
        ("true", "'vervolg_dagen' moet een heel getal"),
    ],
)
def test_a_wrong_follow_up_names_its_line(value: str, problem: str) -> None:
    text = _edited("vervolg_dagen = 7", f"vervolg_dagen = {value}")
    with pytest.raises(MethodFileError) as caught:
        parse_methods(text, "nl/methoden.toml")
    line = _line(text, f"vervolg_dagen = {value}")
    assert str(caught.value) == (
        f"nl/methoden.toml, regel {line}: methode 'alact', fase 5: {problem}"
        + ("" if problem.endswith("zijn") else " van 1 tot en met 365 zijn")
    )
