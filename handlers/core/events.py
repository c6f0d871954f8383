"""Typed, frozen events: what a person did, independent of the chat platform.

Adapters build these from Slack payloads, Teams activities or terminal input. Ids are the
platform's own strings; ``platform`` says whose ("slack", "teams", "terminal").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

# A lone UTF-16 surrogate is valid in JSON ("\\ud800") but not in UTF-8: neither database nor
# any platform can take it. Text from a platform is made storable once, here, where it enters
# the neutral events, so every adapter (Slack, Teams, the terminal) and every path benefits.
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (a proper pair is joined)."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _storable(value: object) -> object:
    """``value`` itself when nothing in it changes, else a copy of the same shape."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, tuple | list):
        items = [_storable(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, Mapping):
        pairs = {_storable(k): _storable(v) for k, v in value.items()}
        if all(k in value and value[k] is v for k, v in pairs.items()):
            return value
        return MappingProxyType(pairs) if isinstance(value, MappingProxyType) else dict(pairs)
    return value


class _Storable:
    """Every text field of the event made storable (see ``storable``)."""

    def __post_init__(self) -> None:
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            clean = _storable(value)
            if clean is not value:
                object.__setattr__(self, item.name, clean)


@dataclass(frozen=True)
class Actor(_Storable):
    platform: str
    user_id: str
    display_name: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class Place(_Storable):
    """A conversation: a channel, group chat or direct message."""

    platform: str
    channel_id: str
    team_id: str | None = None
    name: str | None = None


FormValue = str | tuple[str, ...]


def _frozen(mapping: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class CommandInvoked(_Storable):
    """``/casus some text`` on Slack, ``@Leerkring casus`` on Teams, ``/casus`` in the terminal."""

    actor: Actor
    place: Place
    command: str  # without the slash, lower case: "casus"
    text: str = ""


@dataclass(frozen=True)
class ThreadMessage(_Storable):
    """A message posted as a reply under another message."""

    actor: Actor
    place: Place
    thread_id: str  # the id of the message the thread hangs under
    message_id: str
    text: str
    event_id: str  # the platform's delivery id, for deduplication


@dataclass(frozen=True)
class FormSubmitted(_Storable):
    actor: Actor
    place: Place | None
    form_id: str
    values: Mapping[str, FormValue]
    # What the handler put in the form when it opened it (e.g. the casus id).
    metadata: Mapping[str, object] = field(default_factory=lambda: _frozen(None))

    def text(self, field_id: str) -> str:
        value = self.values.get(field_id, "")
        return value if isinstance(value, str) else ", ".join(value)

    def choices(self, field_id: str) -> tuple[str, ...]:
        value = self.values.get(field_id, ())
        return (value,) if isinstance(value, str) and value else tuple(value)


@dataclass(frozen=True)
class ButtonPressed(_Storable):
    actor: Actor
    place: Place | None
    action_id: str
    value: str
    message_id: str | None = None


@dataclass(frozen=True)
class MemberJoined(_Storable):
    actor: Actor
    place: Place
    event_id: str


Event = CommandInvoked | ThreadMessage | FormSubmitted | ButtonPressed | MemberJoined


@dataclass(frozen=True)
class MessageRef:
    """Where a posted message landed."""

    platform: str
    channel_id: str
    message_id: str
