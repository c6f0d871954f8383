"""User-facing texts and question decks, loaded from the TOML files beside this module.

Facilitators may edit the files; ``tests/prompts`` checks that every language has the same keys
and placeholders, so an edit that breaks a template is caught before it reaches a channel.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core import language as babel_language
from handlers.core.replies import Param, Rich, rich

HERE = Path(__file__).parent
LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    required: bool
    kind: str = "text"  # "text" or "choices"
    multiline: bool = False
    max_length: int | None = None
    placeholder: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Deck:
    """A reflection kind: its name, a short intro and its questions."""

    kind: str
    name: str
    intro: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Perspective:
    id: str
    label: str


class Texts:
    def __init__(
        self,
        language: str,
        data: dict[str, Any],
        casus: dict[str, Any],
        decks: dict[str, Any] | None = None,
    ) -> None:
        self.language = language
        self._data = data
        self.platform: str | None = None
        self.decks: dict[str, Deck] = {
            kind: Deck(
                kind=kind,
                name=deck["name"],
                intro=deck.get("intro", ""),
                questions=tuple(
                    Question(multiline=True, max_length=1500, **q) for q in deck["question"]
                ),
            )
            for kind, deck in (decks or {}).items()
        }
        self.casus_questions: tuple[Question, ...] = tuple(
            Question(**q) for q in casus.get("question", [])
        )
        self.perspectives: tuple[Perspective, ...] = tuple(
            Perspective(**p) for p in casus.get("perspective", [])
        )

    def _node(self, key: str) -> Any:
        if self.platform is not None:
            # The adapter's own words first (texts-adapters.toml: [adapter.<platform>.<key>]).
            try:
                return self._walk(f"adapter.{self.platform}.{key}")
            except KeyError:
                pass
        return self._walk(key)

    def _walk(self, key: str) -> Any:
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"text {key!r} missing for language {self.language!r}")
            node = node[part]
        return node

    def get(self, key: str) -> str:
        node = self._node(key)
        if not isinstance(node, str):
            raise KeyError(f"text {key!r} is a table, not a text")
        return node

    def rich(self, key: str, **params: Param) -> Rich:
        return rich(self.get(key), **params)

    def table(self, key: str) -> dict[str, Any]:
        """A table of texts (such as the entries of /help), in the order of the file."""
        node = self._node(key)
        if not isinstance(node, dict):
            raise KeyError(f"text {key!r} is a text, not a table")
        return node

    def on(self, platform: str) -> Texts:
        """These texts as seen on one platform: a hint that is written for that adapter
        (``[adapter.<platform>.casus.card] footer = ...``) replaces the general one."""
        if platform == self.platform:
            return self
        view = Texts.__new__(Texts)
        view.__dict__.update(self.__dict__)
        view.platform = platform
        return view

    # --- numbers and dates (Babel, see handlers/core/language.py) ---

    def count(self, word: str, number: int) -> str:
        """``1 bijdrage``, ``3 bijdragen``: ``count.<word>`` has a form per plural category."""
        forms = self._node(f"count.{word}")
        if not isinstance(forms, dict):
            raise KeyError(f"text count.{word!r} needs a form per plural category")
        template = babel_language.pick_plural(forms, self.language, number)
        return template.format(n=number)

    def moment(self, value: datetime, zone: str, now: datetime | None = None) -> str:
        """``vrijdag 4 december om 15:00``; only ``15:00`` when ``now`` is the same day."""
        if now is not None:
            tz = ZoneInfo(zone)
            if value.astimezone(tz).date() == now.astimezone(tz).date():
                return babel_language.moment(value, self.get("format.time"), self.language, zone)
        return babel_language.moment(value, self.get("format.moment"), self.language, zone)

    def day(self, value: date) -> str:
        """``vrijdag 4 december 2026``."""
        return babel_language.day(value, self.get("format.day"), self.language)

    def question(self, question_id: str) -> Question:
        for question in self.casus_questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def perspective_label(self, perspective_id: str) -> str:
        for perspective in self.perspectives:
            if perspective.id == perspective_id:
                return perspective.label
        return perspective_id

    def keys(self) -> set[str]:
        out: set[str] = set()

        def walk(prefix: str, node: dict[str, Any]) -> None:
            for name, value in node.items():
                key = f"{prefix}{name}"
                if isinstance(value, dict):
                    walk(key + ".", value)
                else:
                    out.add(key)

        walk("", self._data)
        return out


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _merge(target: dict[str, Any], extra: dict[str, Any], origin: str, prefix: str = "") -> None:
    for name, value in extra.items():
        if name in target:
            if isinstance(target[name], dict) and isinstance(value, dict):
                _merge(target[name], value, origin, f"{prefix}{name}.")
                continue
            raise ValueError(f"text {prefix}{name!r} is defined twice (again in {origin})")
        target[name] = value


@cache
def load_texts(language: str = "nl") -> Texts:
    """``texts.toml`` plus every ``texts-*.toml`` beside it (one file per feature)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    folder = HERE / language
    data = _read(folder / "texts.toml")
    for extra in sorted(folder.glob("texts-*.toml")):
        _merge(data, _read(extra), extra.name)
    return Texts(language, data, _read(folder / "casus.toml"), _read(folder / "reflectie.toml"))
