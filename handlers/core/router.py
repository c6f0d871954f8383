"""Explicit registration: each handler module exposes ``register(router)``.

Handlers are plain synchronous functions ``(event, ctx) -> list[Reply]``. The runtime runs
them inside one database transaction per event, in a worker thread, so they never block the
server's event loop and never see a platform SDK. Thread messages are the exception: they
arrive in bursts and must be stored before the platform's ack, so their handlers take a batch
``(events, ctx) -> list[list[Reply]]`` that the runtime stores in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from handlers.core.context import HandlerContext
from handlers.core.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    MemberJoined,
    MessageRef,
    ThreadMessage,
)
from handlers.core.personal import PersonalData
from handlers.core.registry import EngineStep, Registry, ScheduleKind
from handlers.core.replies import Ephemeral, Reply, Rich
from handlers.core.sections import HarvestSource

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[E, HandlerContext], list[Reply]]
BatchHandler = Callable[[Sequence[E], HandlerContext], list[list[Reply]]]


# Makes a private file again for one person: (ctx, platform, user id, args) -> the file's
# bytes, or None when it cannot be made any more; args are the plain values the offer carried
# (UploadFile.source_args). A source may raise FileRefused to tell the person why not.
FileSource = Callable[[HandlerContext, str, str, Mapping[str, str]], bytes | None]
# Told once the file reached the person (the same arguments); e.g. for an audit log.
FileDelivered = Callable[[HandlerContext, str, str, Mapping[str, str]], None]
PostedHook = Callable[[HandlerContext, int, MessageRef], list[Reply]]
FailedHook = Callable[[HandlerContext, int, str], list[Reply]]


class FileRefused(Exception):
    """A file source will not make the file for this person (any more); ``notice`` says why."""

    def __init__(self, notice: Rich) -> None:
        super().__init__("file refused")
        self.notice = notice


@dataclass
class _Table(Generic[E]):
    by_key: dict[str, Handler[E]] = field(default_factory=dict)

    def add(self, key: str, handler: Handler[E]) -> None:
        if key in self.by_key:
            raise ValueError(f"{key!r} is registered twice")
        self.by_key[key] = handler


class Router:
    def __init__(self) -> None:
        self._commands: _Table[CommandInvoked] = _Table()
        self._forms: _Table[FormSubmitted] = _Table()
        self._actions: _Table[ButtonPressed] = _Table()
        self._thread_messages: list[BatchHandler[ThreadMessage]] = []
        self._member_joined: list[Handler[MemberJoined]] = []
        self._posted: dict[str, PostedHook] = {}
        self._failed: dict[str, FailedHook] = {}
        self._after_posted: dict[str, list[PostedHook]] = {}
        self._files: dict[str, FileSource] = {}
        self._files_delivered: dict[str, FileDelivered] = {}
        self.registry = Registry()

    # --- registration ---
    def command(self, name: str, handler: Handler[CommandInvoked]) -> None:
        self._commands.add(name.lstrip("/").lower(), handler)

    def form(self, form_id: str, handler: Handler[FormSubmitted]) -> None:
        self._forms.add(form_id, handler)

    def action(self, action_id: str, handler: Handler[ButtonPressed]) -> None:
        self._actions.add(action_id, handler)

    def thread_messages(self, handler: BatchHandler[ThreadMessage]) -> None:
        self._thread_messages.append(handler)

    def thread_message(self, handler: Handler[ThreadMessage]) -> None:
        """A handler that takes thread messages one at a time (inside the batch's unit of
        work); fine for messages that are rare or cheap to store."""
        self.thread_messages(lambda events, ctx: [handler(event, ctx) for event in events])

    def member_joined(self, handler: Handler[MemberJoined]) -> None:
        self._member_joined.append(handler)

    def file_source(
        self, name: str, source: FileSource, *, delivered: FileDelivered | None = None
    ) -> None:
        if name in self._files:
            raise ValueError(f"file source {name!r} is registered twice")
        self._files[name] = source
        if delivered is not None:
            self._files_delivered[name] = delivered

    def on_posted(self, kind: str, hook: PostedHook, on_failure: FailedHook) -> None:
        self._posted[kind] = hook
        self._failed[kind] = on_failure

    def after_posted(self, kind: str, listener: PostedHook) -> None:
        """Told once a post of ``kind`` is recorded, after the owner's hook and in the same unit
        of work (e.g. a casus is in its channel: another feature suggests who could think
        along). The owner does not name its listeners. A listener that fails is logged and
        undone on its own (a savepoint); the post stays recorded."""
        self._after_posted.setdefault(kind, []).append(listener)

    def harvest_section(self, source: HarvestSource) -> None:
        self.registry.harvest_sections.register(source)

    def schedule_kind(self, kind: ScheduleKind) -> None:
        self.registry.schedule_kind(kind)

    def engine_step(self, step: EngineStep) -> None:
        self.registry.engine_step(step)

    def personal_data(self, part: PersonalData) -> None:
        """What the feature stores about a person: its export, erasure and retention."""
        self.registry.personal(part)

    # --- introspection (adapters and tests) ---
    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(self._commands.by_key)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self._actions.by_key)

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(self._forms.by_key)

    # --- dispatch ---
    def dispatch(self, event: Event, ctx: HandlerContext) -> list[Reply]:
        if isinstance(event, CommandInvoked):
            command = self._commands.by_key.get(event.command.lstrip("/").lower())
            if command is None:
                return [Ephemeral(ctx.texts.rich("general.unknown_command", command=event.command))]
            return command(event, ctx)
        if isinstance(event, FormSubmitted):
            form = self._forms.by_key.get(event.form_id)
            if form is None:
                return [Ephemeral(ctx.texts.rich("general.unknown_action"))]
            return form(event, ctx)
        if isinstance(event, ButtonPressed):
            action = self._actions.by_key.get(event.action_id)
            if action is None:
                return [Ephemeral(ctx.texts.rich("general.unknown_action"))]
            return action(event, ctx)
        if isinstance(event, ThreadMessage):
            return self.dispatch_thread_messages([event], ctx)[0]
        if isinstance(event, MemberJoined):
            return [r for h in self._member_joined for r in h(event, ctx)]
        raise TypeError(f"unknown event type {type(event).__name__}")

    def make_file(
        self,
        name: str,
        ctx: HandlerContext,
        platform: str,
        user_id: str,
        args: Mapping[str, str] | None = None,
    ) -> bytes | None:
        """The file of source ``name`` for this person, made now; None for an unknown source."""
        source = self._files.get(name)
        return source(ctx, platform, user_id, args or {}) if source else None

    def file_delivered(
        self,
        name: str,
        ctx: HandlerContext,
        platform: str,
        user_id: str,
        args: Mapping[str, str] | None = None,
    ) -> None:
        hook = self._files_delivered.get(name)
        if hook is not None:
            hook(ctx, platform, user_id, args or {})

    def dispatch_thread_messages(
        self, events: Sequence[ThreadMessage], ctx: HandlerContext
    ) -> list[list[Reply]]:
        """Replies per event, in the order of ``events``."""
        replies: list[list[Reply]] = [[] for _ in events]
        for handler in self._thread_messages:
            for collected, more in zip(replies, handler(events, ctx), strict=True):
                collected.extend(more)
        return replies

    def posted(
        self, kind: str, ctx: HandlerContext, object_id: int, ref: MessageRef
    ) -> list[Reply]:
        hook = self._posted.get(kind)
        replies = hook(ctx, object_id, ref) if hook else []
        for listener in self._after_posted.get(kind, ()):
            try:
                with ctx.session.begin_nested():
                    replies.extend(listener(ctx, object_id, ref))
            except Exception:
                log.exception("after posting %s %s: a listener failed", kind, object_id)
        return replies

    def post_failed(
        self, kind: str, ctx: HandlerContext, object_id: int, reason: str
    ) -> list[Reply]:
        hook = self._failed.get(kind)
        return hook(ctx, object_id, reason) if hook else []
