"""Shared wording and escaping for the harvest's report and the sections that render
themselves (handlers/core/sections.py ``SectionPayload``): one place, so every section writes
people's text the same way (HTML entities in HTML, backslashes in Markdown)."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.core.replies import Rich, rich
from prompts import Texts

QUOTE_CHARS = 280
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def local_day(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y")


def org_label(texts: Texts, organisation: str | None) -> str:
    return organisation or texts.get("oogsten.report.no_organisation")


def deck_name(texts: Texts, kind: str) -> str:
    deck = texts.decks.get(kind)
    return deck.name if deck else kind


def question_label(texts: Texts, kind: str, question_id: str) -> str:
    deck = texts.decks.get(kind)
    if deck is not None:
        for question in deck.questions:
            if question.id == question_id:
                return question.label
    return question_id


def source_label(texts: Texts, key: str) -> str:
    """A source's label: a text key when it is one (ours), otherwise the label itself."""
    try:
        return texts.get(key)
    except KeyError:
        return key


def report_text(texts: Texts, key: str, **params: str | int) -> str:
    """The report's own wording (``oogsten.report.<key>``), filled with already-safe values."""
    return texts.rich(f"oogsten.report.{key}", **params).plain()


def respondents(texts: Texts, count: int) -> str:
    return texts.count("deelnemer", count)


def md_escape(text: str) -> str:
    """People's text as literal Markdown: special characters escaped, lines kept together."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def html_escape(text: str) -> str:
    return html.escape(text, quote=True)


def short(text: str, limit: int = QUOTE_CHARS) -> str:
    """A quote for a card: one line, cut at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def joined(heading: Rich, lines: list[Rich]) -> Rich:
    """One Rich of a heading and lines: templates joined, parameters renamed apart."""
    template = [heading.template]
    params: dict[str, object] = dict(heading.params)
    for index, line in enumerate(lines):
        renamed = line.template
        for name, value in line.params.items():
            key = f"{name}_{index}"
            renamed = renamed.replace("{" + name + "}", "{" + key + "}")
            params[key] = value
        template.append(renamed)
    return rich("\n".join(template), **params)  # type: ignore[arg-type]
