"""Typed replies and the neutral rich-content model.

Handlers describe *what* to show; adapters decide *how* (Block Kit, Adaptive Cards, text).

Text that comes from people is never spliced into markup by handlers. Our own wording is a
``Rich`` template in a small neutral markup (``**bold**``, ``_italic_``, line breaks), and
user text travels as a parameter that each adapter escapes for its platform. That is what keeps
``<!channel>`` in a casus from pinging a whole channel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from handlers.core.events import Place


@dataclass(frozen=True)
class Mention:
    user_id: str


Param = str | Mention | int
TextFn = Callable[[str], str]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TOKEN = re.compile("\ue000(\\d+)\ue001")


@dataclass(frozen=True)
class Rich:
    template: str
    params: Mapping[str, Param] = field(default_factory=lambda: MappingProxyType({}))

    def render(
        self,
        escape: TextFn,
        mention: TextFn,
        markup: TextFn | None = None,
    ) -> str:
        """Fill the template: our markup converted by ``markup``, params escaped."""

        # Markup is converted on the whole template with each placeholder replaced by a token,
        # so "**{label}**" works; values are substituted afterwards and never see markup.
        values: list[str] = []

        def _token(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.params:
                raise KeyError(f"template parameter {name!r} missing in {self.template!r}")
            value = self.params[name]
            values.append(
                mention(value.user_id) if isinstance(value, Mention) else escape(str(value))
            )
            return f"\ue000{len(values) - 1}\ue001"

        tokenised = _PLACEHOLDER.sub(_token, self.template.replace("\ue000", ""))
        converted = markup(tokenised) if markup else tokenised
        return _TOKEN.sub(lambda m: values[int(m.group(1))], converted)

    def plain(self) -> str:
        """Readable text without markup, for fallbacks, logs of our own texts and terminals."""
        return self.render(
            escape=lambda s: s,
            mention=lambda uid: f"@{uid}",
            markup=lambda s: s.replace("**", "").replace("__", ""),
        )


def rich(template: str, **params: Param) -> Rich:
    return Rich(template, MappingProxyType(dict(params)))


# --- content blocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    text: str  # plain text; may be user text (adapters treat it as plain)


@dataclass(frozen=True)
class Section:
    text: Rich
    # Label/value pairs shown side by side where the platform can.
    fields: tuple[Rich, ...] = ()


@dataclass(frozen=True)
class Context:
    text: Rich


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Button:
    action_id: str
    label: str
    value: str
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


Block = Header | Section | Context | Divider | Actions


@dataclass(frozen=True)
class Card:
    blocks: tuple[Block, ...]
    fallback: Rich  # the plain-text version (notifications, screen readers, terminals)


# --- forms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class TextInput:
    field_id: str
    label: str
    required: bool = False
    multiline: bool = False
    max_length: int | None = None
    initial: str | None = None
    placeholder: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class MultiSelect:
    field_id: str
    label: str
    options: tuple[Option, ...]
    required: bool = False
    initial: tuple[str, ...] = ()
    placeholder: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Select:
    """Exactly one of a few options."""

    field_id: str
    label: str
    options: tuple[Option, ...]
    required: bool = True
    initial: str | None = None
    hint: str | None = None
    placeholder: str | None = None


FormField = TextInput | MultiSelect | Select


@dataclass(frozen=True)
class Form:
    form_id: str
    title: str  # short, our own text (Slack allows 24 characters)
    submit_label: str
    cancel_label: str
    fields: tuple[FormField, ...]
    intro: Rich | None = None
    metadata: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """Ask the runtime to remember where a posted message landed, e.g. ("casus", 12)."""

    kind: str
    object_id: int


@dataclass(frozen=True)
class PostMessage:
    place: Place
    content: Card
    thread_id: str | None = None
    record_as: Record | None = None


@dataclass(frozen=True)
class UpdateMessage:
    place: Place
    message_id: str
    content: Card


@dataclass(frozen=True)
class Ephemeral:
    """A notice only the person who acted sees; ``card`` adds structure and buttons where
    the platform can show them (the text is then the fallback)."""

    text: Rich
    card: Card | None = None


@dataclass(frozen=True)
class DirectMessage:
    """A private message to one person (e.g. an answer collected for a facilitator)."""

    platform: str
    user_id: str
    content: Card


@dataclass(frozen=True)
class OpenForm:
    form: Form


@dataclass(frozen=True)
class FormErrors:
    """Keep the form open and show these messages on the named fields."""

    errors: Mapping[str, str]


@dataclass(frozen=True)
class UploadFile:
    """A file for one person privately (``user_id``) or for a conversation (``place``).
    Adapters that cannot upload files raise UnsupportedReply.

    ``source``: the name of a file source registered with the router that makes this file
    again for the person (``Router.file_source``). A platform that must ask before it sends a
    file (Teams' file consent) makes it again when the person accepts, instead of holding the
    content in between. ``source_args`` are the plain values the source needs for that (such
    as a harvest's period and channel), never the content."""

    filename: str
    content: bytes
    title: str
    place: Place | None = None
    user_id: str | None = None
    comment: Rich | None = None
    source: str | None = None
    source_args: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.place is None) == (self.user_id is None):
            raise ValueError("UploadFile needs exactly one of place and user_id")
        if self.source is not None and self.user_id is None:
            raise ValueError("a file made again from a source is for one person (user_id)")


@dataclass(frozen=True)
class Deferred:
    """Slow work to do after the platform has had its answer (Slack waits 3 s for an ack):
    the runtime runs ``step(ctx, *args)`` in its own unit of work and the adapter delivers
    the replies it returns. ``args`` are plain values, never database objects."""

    step: Callable[..., list[Reply]]
    args: tuple[object, ...] = ()


Reply = (
    PostMessage
    | UpdateMessage
    | Ephemeral
    | OpenForm
    | FormErrors
    | DirectMessage
    | UploadFile
    | Deferred
)


class UnsupportedReply(TypeError):
    """An adapter was handed a reply type it cannot deliver. Fail loudly, never drop."""
