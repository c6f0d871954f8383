"""The method library (``prompts/<taal>/methoden.toml``) as data: methods with ordered phases.

A facilitator edits the file; a mistake is reported with the file and the line, in words a
facilitator understands, when the file is loaded (at start and in the tests)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import prompts

SPEAKERS = ("iedereen", "niet_inbrenger", "inbrenger")
KINDS = ("open", "vragen", "keten", "schrijf_eerst", "afsluiting")
TEXT_FIELDS = ("titel", "instructie")
MAX_MINUTES = 240
MAX_DAYS = 60
MAX_FOLLOWUP_DAYS = 365
BRACES = "gebruik geen accolades { } in de tekst (opmaak: **vet**, _cursief_)"


class MethodFileError(ValueError):
    """A method file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Phase:
    title: str
    instructions: str
    speaks: str  # iedereen | niet_inbrenger | inbrenger
    kind: str  # open | vragen | keten | schrijf_eerst | afsluiting
    minutes: int
    days: int
    # When this phase begins, the next cycle is planned for the inbrenger this many days on
    # (ALACT's *uitproberen*); None: no follow-up.
    followup_days: int | None = None

    @property
    def questions_only(self) -> bool:
        """The others only ask (``vragen``; ``keten``: the chain of *waarom?*)."""
        return self.kind in ("vragen", "keten")

    @property
    def inbrenger_listens(self) -> bool:
        return self.speaks == "niet_inbrenger"


@dataclass(frozen=True)
class Method:
    key: str
    name: str
    when: str
    phases: tuple[Phase, ...]

    @property
    def minutes(self) -> int:
        return sum(phase.minutes for phase in self.phases)


def _line_of(lines: list[str], method: str, phase: int | None, field: str | None) -> int:
    """The line (1-based) of ``field`` in the ``phase``-th ``[[method.fase]]`` (or in the
    ``[method]`` table); the table's header line when the field is missing."""
    name = re.escape(method)
    header = (
        re.compile(rf"^\s*\[\[\s*{name}\s*\.\s*fase\s*\]\]")
        if phase is not None
        else re.compile(rf"^\s*\[\s*{name}\s*\]")
    )
    seen, start = -1, 0
    for number, line in enumerate(lines):
        if header.match(line):
            seen += 1
            if phase is None or seen == phase:
                start = number
                break
    if field is not None:
        key = re.compile(rf"^\s*{re.escape(field)}\s*=")
        for number in range(start + 1, len(lines)):
            if lines[number].lstrip().startswith("["):
                break
            if key.match(lines[number]):
                return number + 1
    return start + 1


def parse_methods(text: str, origin: str) -> dict[str, Method]:
    """The methods in ``text`` (the contents of ``origin``), in file order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MethodFileError(f"{origin}: dit is geen geldige TOML: {exc}") from None
    lines = text.splitlines()

    def fail(method: str, phase: int | None, field: str | None, problem: str) -> MethodFileError:
        line = _line_of(lines, method, phase, field)
        where = f"methode '{method}'" + (f", fase {phase + 1}" if phase is not None else "")
        return MethodFileError(f"{origin}, regel {line}: {where}: {problem}")

    methods: dict[str, Method] = {}
    for key, table in data.items():
        if not isinstance(table, dict):
            raise fail(key, None, None, "verwacht een tabel [naam] met naam, wanneer en fasen")
        for field in ("naam", "wanneer"):
            if not isinstance(table.get(field), str) or not table[field].strip():
                raise fail(key, None, field, f"'{field}' ontbreekt of is leeg")
            if "{" in table[field] or "}" in table[field]:
                raise fail(key, None, field, BRACES)
        raw_phases = table.get("fase")
        if not isinstance(raw_phases, list) or not raw_phases:
            raise fail(key, None, None, "heeft geen fasen ([[" + key + ".fase]])")
        phases: list[Phase] = []
        for index, raw in enumerate(raw_phases):
            phases.append(_phase(raw, lambda f, p, k=key, i=index: fail(k, i, f, p)))
        methods[key] = Method(key, table["naam"].strip(), table["wanneer"].strip(), tuple(phases))
    if not methods:
        raise MethodFileError(f"{origin}: er staat geen enkele methode in")
    return methods


def _phase(raw: Any, fail: Any) -> Phase:
    for field in TEXT_FIELDS:
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise fail(field, f"'{field}' ontbreekt of is leeg")
        if "{" in raw[field] or "}" in raw[field]:
            raise fail(field, BRACES)
    speaks, kind = raw.get("spreekt"), raw.get("soort")
    if speaks not in SPEAKERS:
        raise fail("spreekt", f"'spreekt' moet een van {', '.join(SPEAKERS)} zijn")
    if kind not in KINDS:
        raise fail("soort", f"'soort' moet een van {', '.join(KINDS)} zijn")
    for field, most in (("minuten", MAX_MINUTES), ("dagen", MAX_DAYS)):
        value = raw.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise fail(field, f"'{field}' moet een heel getal van 1 tot en met {most} zijn")
    followup = raw.get("vervolg_dagen")
    if followup is not None and (
        isinstance(followup, bool)
        or not isinstance(followup, int)
        or not 1 <= followup <= MAX_FOLLOWUP_DAYS
    ):
        raise fail(
            "vervolg_dagen",
            f"'vervolg_dagen' moet een heel getal van 1 tot en met {MAX_FOLLOWUP_DAYS} zijn",
        )
    known = {*TEXT_FIELDS, "spreekt", "soort", "minuten", "dagen", "vervolg_dagen"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise fail(unknown[0], f"onbekend veld '{unknown[0]}'")
    return Phase(
        raw["titel"].strip(),
        raw["instructie"].strip(),
        speaks,
        kind,
        raw["minuten"],
        raw["dagen"],
        followup,
    )


def method_file(language: str) -> Path:
    return prompts.HERE / language / "methoden.toml"


@cache
def load_methods(language: str = "nl") -> dict[str, Method]:
    path = method_file(language)
    return parse_methods(path.read_text(encoding="utf-8"), f"{language}/methoden.toml")
