"""One adapter contract: how a list of neutral replies reaches a platform.

``REPLY_METHODS`` is the table from reply type to the method an adapter implements for it (as
opsdroid's outbound events). ``AsyncReplies`` (Slack, Teams) and ``SyncReplies`` (the terminal)
walk the replies in order with that table, gather notices when asked to, and run deferred
steps through the runtime; an adapter implements only the platform calls. A reply type that an
adapter has no method for fails loudly (``UnsupportedReply``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from bot.runtime import Runtime
from handlers.core.replies import (
    Deferred,
    DirectMessage,
    Ephemeral,
    FormErrors,
    OpenForm,
    PostMessage,
    Reply,
    UnsupportedReply,
    UpdateMessage,
    UploadFile,
)
from prompts import Texts

log = logging.getLogger(__name__)
D = TypeVar("D")

# reply type -> the adapter method that delivers it: method(reply, delivery). ``post`` returns
# the replies that follow from the post (e.g. the handler's answer once it is recorded).
REPLY_METHODS: dict[type, str] = {
    Ephemeral: "send_notice",
    PostMessage: "send_post",
    UpdateMessage: "send_update",
    DirectMessage: "send_direct",
    OpenForm: "send_form",
    FormErrors: "send_form_errors",
    UploadFile: "send_file",
}


def method_for(adapter: object, reply: Reply, platform: str) -> Callable[..., Any]:
    name = REPLY_METHODS.get(type(reply))
    method = getattr(adapter, name, None) if name else None
    if method is None:
        raise UnsupportedReply(f"{platform} cannot deliver {type(reply).__name__}")
    return method  # type: ignore[no-any-return]


def form_errors_outside_a_form(reply: FormErrors, delivery: object) -> None:
    """Form errors only make sense as the answer to a submission; elsewhere they are a bug."""
    log.error("form errors outside a form submission; dropped as a bug")


class AsyncReplies(Generic[D]):
    """The delivery loop of an asynchronous adapter."""

    platform = "?"
    runtime: Runtime
    texts: Texts

    async def deliver(
        self,
        replies: Sequence[Reply],
        delivery: D,
        collect: list[Ephemeral] | None = None,
    ) -> None:
        """Send replies in order. With ``collect``, notices are gathered instead of sent."""
        for reply in replies:
            if isinstance(reply, Ephemeral) and collect is not None:
                collect.append(reply)
            elif isinstance(reply, Deferred):
                later = await self.run_deferred(reply)
                await self.deliver(later, self.after_deferred(later, delivery), collect)
            else:
                follow_up = await method_for(self, reply, self.platform)(reply, delivery)
                if follow_up:
                    await self.deliver(follow_up, delivery, collect)

    def after_deferred(self, later: Sequence[Reply], delivery: D) -> D:
        """Where what a deferred step returned goes; by default where the request came from."""
        return delivery

    async def run_deferred(self, reply: Deferred) -> list[Reply]:
        try:
            return await self.runtime.call(reply.step, *reply.args)
        except Exception:
            log.exception("deferred step %s failed", getattr(reply.step, "__name__", "?"))
            return [Ephemeral(self.texts.rich("general.error_generic"))]


class SyncReplies(Generic[D]):
    """The same loop for an adapter that runs handlers in its own thread (the terminal)."""

    platform = "?"
    runtime: Runtime
    texts: Texts

    def deliver(self, replies: Sequence[Reply], delivery: D) -> None:
        for reply in replies:
            if isinstance(reply, Deferred):
                self.deliver(self.run_deferred(reply), delivery)
            else:
                follow_up = method_for(self, reply, self.platform)(reply, delivery)
                if follow_up:
                    self.deliver(follow_up, delivery)

    def run_deferred(self, reply: Deferred) -> list[Reply]:
        try:
            return self.runtime.call_sync(reply.step, *reply.args)
        except Exception:
            log.exception("deferred step %s failed", getattr(reply.step, "__name__", "?"))
            return [Ephemeral(self.texts.rich("general.error_generic"))]
