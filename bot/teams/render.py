"""Neutral cards and forms to Adaptive Cards for Teams (schema version 1.5, nothing newer).

People's text never goes through Markdown. A ``TextBlock`` always parses Markdown and Teams
clients disagree on backslash escapes, so lines that carry user text become ``RichTextBlock``s
whose ``TextRun``s are shown literally. Only a line with a mention needs a ``TextBlock``
(Teams resolves ``<at>name</at>`` there alone); user text on such a line has its Markdown
characters swapped for look-alikes.

Forms are cards with inputs and an ``Action.Submit``. Its ``data`` says what was submitted
(``leerkring``: form, cancel or button) and Teams merges the input values into the same object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from handlers.core.events import FormValue
from handlers.core.replies import (
    Actions,
    Block,
    Card,
    Context,
    Divider,
    Form,
    FormField,
    Header,
    Mention,
    MultiSelect,
    Rich,
    Section,
    Select,
    TextInput,
    UnsupportedReply,
)

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MARKER = "leerkring"
MAX_CARD_ACTIONS = 6  # Teams shows at most six card-level actions
MAX_SUMMARY = 500
# Teams refuses messages above roughly 28 KB; leave room for the activity around the card.
MAX_CARD_BYTES = 24_000

Names = Mapping[str, str]

_USER_OPEN, _USER_CLOSE = "\ue010", "\ue011"
_MENTION_OPEN, _MENTION_CLOSE = "\ue012", "\ue013"
_MARKERS = re.compile("[\ue010-\ue013]")
_MARKDOWN_LOOKALIKES = str.maketrans(
    {
        "\\": "＼",
        "*": "∗",
        "_": "＿",
        "~": "～",
        "`": "ˋ",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "‹",
        ">": "›",
        "#": "＃",
    }
)
_ITALIC_EDGE = re.compile(r"(?<!\w)_|_(?!\w)")


def neutral(text: str) -> str:
    """User text that must sit inside a Markdown ``TextBlock``: no syntax, no fake mentions."""
    return text.translate(_MARKDOWN_LOOKALIKES)


# --- rich text --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    mention: str | None = None  # the user id when this run is a mention


def _unmark(value: str) -> str:
    return _MARKERS.sub("", value)


def lines(text: Rich) -> list[list[Run]]:
    """Split a template into lines of styled runs; parameters keep the style around them."""
    marked = text.render(
        escape=lambda s: f"{_USER_OPEN}{_unmark(s)}{_USER_CLOSE}",
        mention=lambda uid: f"{_MENTION_OPEN}{_unmark(uid)}{_MENTION_CLOSE}",
    )
    result: list[list[Run]] = [[]]
    bold = italic = False
    mode: Literal["template", "user", "mention"] = "template"
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            result[-1].append(Run("".join(buffer), bold, italic))
            buffer.clear()

    i = 0
    while i < len(marked):
        char = marked[i]
        if char == "\n":
            flush()
            result.append([])
        elif mode == "mention":
            if char == _MENTION_CLOSE:
                result[-1].append(Run("", bold, italic, mention="".join(buffer)))
                buffer.clear()
                mode = "template"
            else:
                buffer.append(char)
        elif char == _USER_OPEN:
            flush()
            mode = "user"
        elif char == _USER_CLOSE:
            flush()
            mode = "template"
        elif char == _MENTION_OPEN:
            flush()
            mode = "mention"
        elif mode == "template" and marked.startswith("**", i):
            flush()
            bold = not bold
            i += 1
        elif mode == "template" and char == "_" and _ITALIC_EDGE.match(marked, i):
            flush()
            italic = not italic
        else:
            buffer.append(char)
        i += 1
    flush()
    return result


def plain(text: Rich, names: Names, someone: str) -> str:
    """Text without markup, for notification summaries and plain replies."""
    return text.render(
        escape=lambda s: s,
        mention=lambda uid: names.get(uid) or someone,
        markup=lambda s: _ITALIC_EDGE.sub("", s.replace("**", "")),
    )


@dataclass
class _Builder:
    """Collects body elements and the mention entities they need."""

    names: Names
    someone: str
    body: list[dict[str, Any]] = field(default_factory=list)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    _gap: Literal["none", "separator", "paragraph"] = "none"

    def separator(self) -> None:
        self._gap = "separator"

    def add(self, element: dict[str, Any]) -> None:
        if self._gap == "separator" and self.body:
            element["separator"] = True
        if self._gap == "paragraph" and self.body:
            element["spacing"] = "Medium"
        self._gap = "none"
        self.body.append(element)

    def rich(self, text: Rich, *, subtle: bool = False, color: str | None = None) -> None:
        for line in lines(text):
            if not any(run.text.strip() or run.mention for run in line):
                if self._gap == "none":
                    self._gap = "paragraph"
                continue
            if any(run.mention for run in line):
                self.add(self._text_block(line, subtle, color))
            else:
                self.add(self._rich_block(line, subtle, color))

    def _rich_block(self, line: list[Run], subtle: bool, color: str | None) -> dict[str, Any]:
        merged: list[Run] = []
        for run in line:
            if merged and (merged[-1].bold, merged[-1].italic) == (run.bold, run.italic):
                merged[-1] = Run(merged[-1].text + run.text, run.bold, run.italic)
            else:
                merged.append(run)
        inlines = []
        for run in merged:
            inline: dict[str, Any] = {"type": "TextRun", "text": run.text}
            if run.bold:
                inline["weight"] = "Bolder"
            if run.italic:
                inline["italic"] = True
            if subtle:
                inline["isSubtle"] = True
                inline["size"] = "Small"
            if color:
                inline["color"] = color
            inlines.append(inline)
        return {"type": "RichTextBlock", "inlines": inlines}

    def _text_block(self, line: list[Run], subtle: bool, color: str | None) -> dict[str, Any]:
        # Runs of one style are joined first: "**a** **b**" would read as "**a****b**".
        groups: list[tuple[bool, bool, str]] = []
        for run in line:
            piece = self._mention(run.mention) if run.mention is not None else neutral(run.text)
            if groups and groups[-1][:2] == (run.bold, run.italic):
                groups[-1] = (run.bold, run.italic, groups[-1][2] + piece)
            else:
                groups.append((run.bold, run.italic, piece))
        parts = []
        for bold, italic, piece in groups:
            if piece.strip() and bold:
                piece = _wrap(piece, "**")
            if piece.strip() and italic:
                piece = _wrap(piece, "_")
            parts.append(piece)
        element: dict[str, Any] = {"type": "TextBlock", "text": "".join(parts), "wrap": True}
        if subtle:
            element["isSubtle"] = True
            element["size"] = "Small"
        if color:
            element["color"] = color
        return element

    def _mention(self, user_id: str) -> str:
        name = self.names.get(user_id)
        if not name:
            return neutral(self.someone)
        text = f"<at>{neutral(name)}</at>"
        self.entities.setdefault(
            text, {"type": "mention", "text": text, "mentioned": {"id": user_id, "name": name}}
        )
        return text

    def card(self, actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        card: dict[str, Any] = {
            "type": "AdaptiveCard",
            "$schema": SCHEMA,
            "version": VERSION,
            "body": self.body or [{"type": "TextBlock", "text": " "}],
            "msteams": {"width": "Full"},
        }
        if actions:
            card["actions"] = actions
        if self.entities:
            card["msteams"]["entities"] = list(self.entities.values())
        return card


def _wrap(piece: str, mark: str) -> str:
    """``**x**`` only works when the marks touch text, so keep outer spaces outside."""
    stripped = piece.strip()
    start = piece.index(stripped[0])
    return f"{piece[:start]}{mark}{stripped}{mark}{piece[start + len(stripped) :]}"


# --- cards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedCard:
    card: dict[str, Any]
    summary: str  # what notifications and screen readers show

    @property
    def attachment(self) -> dict[str, Any]:
        return {"contentType": CONTENT_TYPE, "content": self.card}


def button_data(action_id: str, value: str) -> dict[str, Any]:
    return {MARKER: "button", "action_id": action_id, "value": value}


def render_card(card: Card, names: Names, someone: str) -> RenderedCard:
    builder = _Builder(names, someone)
    actions: list[dict[str, Any]] = []
    for block in card.blocks:
        _render_block(block, builder, actions)
    rendered = builder.card(actions[:MAX_CARD_ACTIONS])
    rendered = _fit(rendered)
    return RenderedCard(rendered, _summary(card.fallback, names, someone))


def render_notice(
    text: Rich, names: Names, someone: str, *, color: str | None = None
) -> RenderedCard:
    builder = _Builder(names, someone)
    builder.rich(text, color=color)
    return RenderedCard(_fit(builder.card()), _summary(text, names, someone))


def _summary(text: Rich, names: Names, someone: str) -> str:
    summary = " ".join(plain(text, names, someone).split())
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…"


def _render_block(block: Block, builder: _Builder, actions: list[dict[str, Any]]) -> None:
    if isinstance(block, Header):
        run = {"type": "TextRun", "text": block.text, "size": "Large", "weight": "Bolder"}
        builder.add({"type": "RichTextBlock", "inlines": [run]})
    elif isinstance(block, Section):
        builder.rich(block.text)
        for item in block.fields:
            builder.rich(item)
    elif isinstance(block, Context):
        builder.rich(block.text, subtle=True)
    elif isinstance(block, Divider):
        builder.separator()
    elif isinstance(block, Actions):
        for button in block.buttons:
            action: dict[str, Any] = {
                "type": "Action.Submit",
                "title": button.label,
                "data": button_data(button.action_id, button.value),
            }
            if button.style == "primary":
                action["style"] = "positive"
            elif button.style == "danger":
                action["style"] = "destructive"
            actions.append(action)
    else:
        raise UnsupportedReply(f"Teams cannot render block {type(block).__name__}")


def _size(card: dict[str, Any]) -> int:
    return len(json.dumps(card).encode())


def _fit(card: dict[str, Any]) -> dict[str, Any]:
    """Shorten the longest text runs until the card fits in one Teams message."""
    while _size(card) > MAX_CARD_BYTES:
        runs = [
            inline
            for element in card["body"]
            for inline in element.get("inlines", [])
            if len(inline["text"]) > 200
        ]
        if not runs:
            break
        longest = max(runs, key=lambda inline: len(inline["text"]))
        text = longest["text"]
        longest["text"] = text[: max(200, len(text) * 3 // 4)].rstrip() + "…"
    return card


def mention_ids(blocks: Iterable[Block | Rich]) -> set[str]:
    """Every user id mentioned in these blocks, to look up display names before rendering."""
    found: set[str] = set()

    def scan(text: Rich) -> None:
        found.update(v.user_id for v in text.params.values() if isinstance(v, Mention))

    for block in blocks:
        if isinstance(block, Rich):
            scan(block)
        elif isinstance(block, Section):
            scan(block.text)
            for item in block.fields:
                scan(item)
        elif isinstance(block, Context):
            scan(block.text)
    return found


# --- forms ------------------------------------------------------------------------------------


def render_form(
    form: Form,
    names: Names,
    someone: str,
    *,
    values: Mapping[str, FormValue] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: Rich | None = None,
    required_text: str = "",
    seal: str | None = None,
) -> RenderedCard:
    """The form as a card; with ``values`` and ``errors`` it is the same card shown again.
    ``seal`` (bot/form_seal.py) comes back with the submission, to check its metadata."""
    values = values or {}
    errors = errors or {}
    builder = _Builder(names, someone)
    title = {"type": "TextRun", "text": form.title, "size": "Medium", "weight": "Bolder"}
    builder.add({"type": "RichTextBlock", "inlines": [title]})
    if notice is not None:
        builder.rich(notice, color="Attention")
    if form.intro is not None:
        builder.rich(form.intro)
    for item in form.fields:
        builder.add(_render_input(item, values.get(item.field_id), required_text))
        if item.field_id in errors:
            error = {"type": "TextRun", "text": errors[item.field_id], "color": "Attention"}
            builder.add({"type": "RichTextBlock", "inlines": [error]})
        if item.hint:
            hint = {"type": "TextRun", "text": item.hint, "isSubtle": True, "size": "Small"}
            builder.add({"type": "RichTextBlock", "inlines": [hint]})
    submit_data = {
        MARKER: "form",
        "form_id": form.form_id,
        "title": form.title,
        "metadata": dict(form.metadata),
        "fields": [[f.field_id, _kind(f), f.label] for f in form.fields],
    }
    if seal is not None:
        submit_data["seal"] = seal
    actions = [
        {
            "type": "Action.Submit",
            "title": form.submit_label,
            "style": "positive",
            "data": submit_data,
        },
        {
            "type": "Action.Submit",
            "title": form.cancel_label,
            "associatedInputs": "none",
            "data": {MARKER: "cancel", "form_id": form.form_id},
        },
    ]
    summary = form.title if notice is None else f"{form.title}: {plain(notice, names, someone)}"
    return RenderedCard(builder.card(actions), summary[:MAX_SUMMARY])


def _kind(item: FormField) -> str:
    if isinstance(item, MultiSelect):
        return "choices"
    return "choice" if isinstance(item, Select) else "text"


def _render_input(item: FormField, value: FormValue | None, required_text: str) -> dict[str, Any]:
    element: dict[str, Any]
    if isinstance(item, TextInput):
        element = {"type": "Input.Text", "id": item.field_id, "isMultiline": item.multiline}
        if item.max_length:
            element["maxLength"] = item.max_length
        current = value if isinstance(value, str) else item.initial
        if current:
            element["value"] = current
    elif isinstance(item, MultiSelect):
        element = {
            "type": "Input.ChoiceSet",
            "id": item.field_id,
            "isMultiSelect": True,
            "style": "compact",
            "choices": [{"title": o.label, "value": o.value} for o in item.options],
        }
        chosen = (value,) if isinstance(value, str) else (value or item.initial)
        known = {o.value for o in item.options}
        selected = [v for v in chosen if v in known]
        if selected:
            element["value"] = ",".join(selected)
    elif isinstance(item, Select):
        element = {
            "type": "Input.ChoiceSet",
            "id": item.field_id,
            "isMultiSelect": False,
            "style": "compact",
            "choices": [{"title": o.label, "value": o.value} for o in item.options],
        }
        current = value if isinstance(value, str) else item.initial
        if current in {o.value for o in item.options}:
            element["value"] = current
    else:
        raise UnsupportedReply(f"Teams cannot render form field {type(item).__name__}")
    element["label"] = item.label
    if item.required:
        element["isRequired"] = True
        if required_text:
            element["errorMessage"] = required_text
    if item.placeholder:
        element["placeholder"] = item.placeholder
    return element


# --- submissions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ButtonSubmission:
    action_id: str
    value: str


@dataclass(frozen=True)
class FormSubmission:
    form_id: str
    metadata: Mapping[str, object]
    values: dict[str, FormValue]
    labels: dict[str, str]  # field id -> label, in form order
    title: str = ""
    seal: object = None


@dataclass(frozen=True)
class CancelSubmission:
    form_id: str


Submission = ButtonSubmission | FormSubmission | CancelSubmission


def parse_submission(value: object) -> Submission | None:
    """What an ``Action.Submit`` carried; None when it is not one of our cards."""
    if not isinstance(value, Mapping):
        return None
    kind = value.get(MARKER)
    if kind == "button":
        action_id, button_value = value.get("action_id"), value.get("value")
        if isinstance(action_id, str) and action_id and isinstance(button_value, str):
            return ButtonSubmission(action_id, button_value)
        return None
    form_id = value.get("form_id")
    if not isinstance(form_id, str) or not form_id:
        return None
    if kind == "cancel":
        return CancelSubmission(form_id)
    if kind != "form":
        return None
    metadata = value.get("metadata")
    fields = value.get("fields")
    if not isinstance(fields, list):
        return None
    values: dict[str, FormValue] = {}
    labels: dict[str, str] = {}
    for entry in fields:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)):
            continue
        field_id, field_kind, label = entry
        raw = value.get(field_id)
        text = raw if isinstance(raw, str) else ""
        if field_kind == "choices":
            values[field_id] = tuple(part for part in text.split(",") if part)
        else:
            values[field_id] = text
        labels[field_id] = label if isinstance(label, str) else field_id
    title = value.get("title")
    return FormSubmission(
        form_id,
        dict(metadata) if isinstance(metadata, Mapping) else {},
        values,
        labels,
        title if isinstance(title, str) else "",
        value.get("seal"),
    )


def has_input(submission: FormSubmission) -> bool:
    return any((v.strip() if isinstance(v, str) else bool(v)) for v in submission.values.values())
