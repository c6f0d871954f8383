"""Typed, frozen events: what a person did, independent of the chat platform.

Adapters build these from Slack payloads, Teams activities or terminal input. Ids are the
platform's own strings; ``platform`` says whose ("slack", "teams", "terminal").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Actor:
    platform: str
    user_id: str
    display_name: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class Place:
    """A conversation: a channel, group chat or direct message."""

    platform: str
    channel_id: str
    team_id: str | None = None
    name: str | None = None


FormValue = str | tuple[str, ...]


def _frozen(mapping: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class CommandInvoked:
    """``/casus some text`` on Slack, ``@Leerkring casus`` on Teams, ``/casus`` in the terminal."""

    actor: Actor
    place: Place
    command: str  # without the slash, lower case: "casus"
    text: str = ""


@dataclass(frozen=True)
class ThreadMessage:
    """A message posted as a reply under another message."""

    actor: Actor
    place: Place
    thread_id: str  # the id of the message the thread hangs under
    message_id: str
    text: str
    event_id: str  # the platform's delivery id, for deduplication


@dataclass(frozen=True)
class FormSubmitted:
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
class ButtonPressed:
    actor: Actor
    place: Place | None
    action_id: str
    value: str
    message_id: str | None = None


@dataclass(frozen=True)
class MemberJoined:
    actor: Actor
    place: Place
    event_id: str


Event = CommandInvoked | ThreadMessage | FormSubmitted | ButtonPressed | MemberJoined
