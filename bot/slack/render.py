"""Neutral replies to Block Kit, within Slack's limits.

User text is escaped (``&``, ``<``, ``>``) and every mrkdwn object is ``verbatim`` so Slack does
not auto-parse ``@channel`` or channel names typed by people. Limits (Block Kit reference):
50 blocks per message, 3000 characters per section text, 150 per header, 10 fields of 2000,
75 per button label, 24 for modal title/submit/close, 3000 for private_metadata.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handlers.core.events import Place
from handlers.core.replies import (
    Actions,
    Block,
    Card,
    Context,
    Divider,
    Form,
    Header,
    MultiSelect,
    Rich,
    Section,
    Select,
    TextInput,
    UnsupportedReply,
)

if TYPE_CHECKING:
    from bot.form_seal import FormSeal

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_CONTEXT = 2000
MAX_BUTTON = 75
MAX_MODAL_TITLE = 24
MAX_MODAL_BLOCKS = 100
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION = 75
MAX_METADATA = 3000

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def markup(text: str) -> str:
    """Our neutral ``**bold**`` to Slack's ``*bold*``; ``_italic_`` is the same in both."""
    return _BOLD.sub(r"*\1*", text)


def mrkdwn(text: Rich) -> str:
    return text.render(escape, mention, markup)


def plain(text: str, limit: int) -> dict[str, Any]:
    """Slack decodes &amp; &lt; &gt; for display in plain_text too, so escape here as well."""
    return {
        "type": "plain_text",
        "text": truncate_escaped(escape(text or " "), limit),
        "emoji": True,
    }


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def truncate_escaped(text: str, limit: int) -> str:
    """Truncate escaped text without cutting an entity such as ``&amp;`` in half."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    return text[:cut].rstrip() + "…"


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split rendered mrkdwn into chunks ≤ limit, at line or word boundaries.

    Entities (``&amp;``) and mentions (``<@U1>``) hold no whitespace, so a whitespace split
    never cuts one in half. A single run without whitespace longer than the limit is cut hard
    and then outside any ``<...>`` or ``&...;``.
    """
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = _safe_hard_cut(rest, limit)
        chunk = rest[:cut].rstrip()
        if chunk:  # leading whitespace only: Slack refuses an empty section text
            chunks.append(chunk)
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def _safe_hard_cut(text: str, limit: int) -> int:
    cut = limit
    amp = text.rfind("&", max(0, cut - 6), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    lt = text.rfind("<", 0, cut)
    if lt != -1 and ">" not in text[lt:cut]:
        cut = lt if lt > 0 else cut
    return cut


@dataclass
class RenderedMessage:
    text: str
    blocks: list[dict[str, Any]]
    # Sections that did not fit in one message; posted in the thread ("lees verder").
    overflow: list[str] = field(default_factory=list)


def render_card(
    card: Card, read_more: Rich | None = None, continued: Rich | None = None
) -> RenderedMessage:
    blocks: list[dict[str, Any]] = []
    for block in card.blocks:
        blocks.extend(_render_block(block))
    fallback = truncate(mrkdwn(card.fallback), 3000)
    overflow: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        keep = blocks[: MAX_BLOCKS - 1]
        # Buttons must stay reachable, so keep any actions block inside the limit.
        actions = [b for b in blocks[MAX_BLOCKS - 1 :] if b["type"] == "actions"]
        if actions:
            keep = [*keep[: MAX_BLOCKS - 2], actions[0]]
        # Whatever is not kept (including the block the actions displaced) goes to the thread.
        dropped = [b for b in blocks if not any(b is k for k in keep)]
        overflow = [_block_text(b) for b in dropped if _block_text(b)]
        note = mrkdwn(read_more) if read_more else "…"
        blocks = [*keep, {"type": "context", "elements": [md(note)]}]
        if continued and overflow:
            overflow.insert(0, mrkdwn(continued))
    return RenderedMessage(fallback, blocks, overflow)


def _block_text(block: dict[str, Any]) -> str:
    if block["type"] == "section":
        return str(block.get("text", {}).get("text", ""))
    if block["type"] == "context":
        return " ".join(str(e.get("text", "")) for e in block["elements"])
    return ""


def _render_block(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        return [{"type": "header", "text": plain(block.text, MAX_HEADER)}]
    if isinstance(block, Section):
        chunks = split_text(mrkdwn(block.text))
        out: list[dict[str, Any]] = [{"type": "section", "text": md(chunk)} for chunk in chunks]
        if block.fields:
            out[-1]["fields"] = [
                md(truncate(mrkdwn(f), MAX_FIELD)) for f in block.fields[:MAX_FIELDS]
            ]
        return out
    if isinstance(block, Context):
        return [{"type": "context", "elements": [md(truncate(mrkdwn(block.text), MAX_CONTEXT))]}]
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Actions):
        elements = []
        for button in block.buttons[:25]:
            element: dict[str, Any] = {
                "type": "button",
                "action_id": button.action_id,
                "text": plain(button.label, MAX_BUTTON),
                "value": button.value[:2000],
            }
            if button.style:
                element["style"] = button.style
            elements.append(element)
        return [{"type": "actions", "elements": elements}]
    raise UnsupportedReply(f"Slack cannot render block {type(block).__name__}")


def render_plain_notice(text: Rich) -> RenderedMessage:
    rendered = mrkdwn(text)
    blocks = [{"type": "section", "text": md(chunk)} for chunk in split_text(rendered)][:MAX_BLOCKS]
    return RenderedMessage(truncate(rendered, 3000), blocks)


# --- forms ------------------------------------------------------------------------------------


def encode_metadata(form: Form, place: Place | None, seal: FormSeal | None = None) -> str:
    payload: dict[str, Any] = {"m": dict(form.metadata)}
    if place is not None:
        payload["p"] = [place.channel_id, place.team_id, place.name]
    if seal is not None:
        payload["s"] = seal.sign(form.form_id, payload["m"], payload.get("p"))
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if len(encoded) > MAX_METADATA:
        raise ValueError("form metadata exceeds Slack's private_metadata limit")
    return encoded


def decode_metadata(raw: str | None) -> tuple[Mapping[str, object], Place | None]:
    if not raw:
        return {}, None
    try:
        payload = json.loads(raw)
    except ValueError:
        return {}, None
    if not isinstance(payload, dict):
        return {}, None
    metadata = payload.get("m") if isinstance(payload.get("m"), dict) else {}
    place = None
    p = payload.get("p")
    if isinstance(p, list) and len(p) == 3 and isinstance(p[0], str):
        place = Place(
            "slack",
            p[0],
            p[1] if isinstance(p[1], str) else None,
            p[2] if isinstance(p[2], str) else None,
        )
    return metadata or {}, place


def sealed_metadata(
    raw: object, form_id: str, seal: FormSeal
) -> tuple[Mapping[str, object], Place | None] | None:
    """``decode_metadata`` for a view the bot opened with ``seal``; None when the metadata is
    not exactly what the bot put there (forged, edited, or from another form)."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("m"), dict):
        return None
    if not seal.valid(payload.get("s"), form_id, payload["m"], payload.get("p")):
        return None
    return decode_metadata(raw)


def render_form(form: Form, place: Place | None, seal: FormSeal | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if form.intro is not None:
        blocks.append({"type": "section", "text": md(truncate(mrkdwn(form.intro), MAX_SECTION))})
    for item in form.fields:
        blocks.append(_render_input(item))
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "title": plain(form.title, MAX_MODAL_TITLE),
        "submit": plain(form.submit_label, MAX_MODAL_TITLE),
        "close": plain(form.cancel_label, MAX_MODAL_TITLE),
        "private_metadata": encode_metadata(form, place, seal),
        "blocks": blocks[:MAX_MODAL_BLOCKS],
    }


def _render_input(item: TextInput | MultiSelect | Select) -> dict[str, Any]:
    element: dict[str, Any]
    if isinstance(item, TextInput):
        element = {
            "type": "plain_text_input",
            "action_id": item.field_id,
            "multiline": item.multiline,
        }
        if item.max_length:
            element["max_length"] = min(item.max_length, 3000)
        if item.initial:
            element["initial_value"] = item.initial
    elif isinstance(item, MultiSelect):
        options = [
            {"text": plain(o.label, MAX_OPTION), "value": o.value[:150]} for o in item.options[:100]
        ]
        element = {"type": "multi_static_select", "action_id": item.field_id, "options": options}
        initial = [o for o in options if o["value"] in item.initial]
        if initial:
            element["initial_options"] = initial
    elif isinstance(item, Select):
        options = [
            {"text": plain(o.label, MAX_OPTION), "value": o.value[:150]} for o in item.options[:100]
        ]
        element = {"type": "static_select", "action_id": item.field_id, "options": options}
        chosen = [o for o in options if o["value"] == item.initial]
        if chosen:
            element["initial_option"] = chosen[0]
    else:
        raise UnsupportedReply(f"Slack cannot render form field {type(item).__name__}")
    if item.placeholder:
        element["placeholder"] = plain(item.placeholder, MAX_PLACEHOLDER)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": item.field_id,
        "optional": not item.required,
        "label": plain(item.label, MAX_LABEL),
        "element": element,
    }
    if item.hint:
        block["hint"] = plain(item.hint, MAX_LABEL)
    return block


def form_values(view: Mapping[str, Any]) -> dict[str, str | tuple[str, ...]]:
    """Values from a submitted modal's ``state``: text as str, multi-selects as tuples."""
    values: dict[str, str | tuple[str, ...]] = {}
    state = view.get("state") or {}
    for block_id, actions in (state.get("values") or {}).items():
        if not isinstance(actions, dict):
            continue
        for action in actions.values():
            if not isinstance(action, dict):
                continue
            kind = action.get("type")
            if kind == "multi_static_select":
                selected = action.get("selected_options") or []
                values[block_id] = tuple(
                    str(o.get("value")) for o in selected if isinstance(o, dict)
                )
            elif kind == "static_select":
                option = action.get("selected_option") or {}
                values[block_id] = str(option.get("value", "")) if isinstance(option, dict) else ""
            else:
                value = action.get("value")
                values[block_id] = value if isinstance(value, str) else ""
    return values


def input_block_ids(view: Mapping[str, Any]) -> list[str]:
    return [
        b["block_id"]
        for b in view.get("blocks") or []
        if isinstance(b, dict) and b.get("type") == "input" and "block_id" in b
    ]
