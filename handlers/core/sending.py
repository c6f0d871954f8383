"""Sending one outbox DM, shared by every scheduler step that sends on its own (prompt DMs,
reminders, welcomes, speedspar round DMs, meedenk-requests), and the claims that let any
number of processes deliver the same rows with each person getting one DM. A DM waits for the
person's working day (handlers/core/workdays.py).

The row's states live in ``handlers/core/outbox.py``; this is the sending side of them."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from handlers.core import workdays
from handlers.core.messaging import NOT_SENT, PERMANENT, DeliveryFailed, Messenger, outbox_key
from handlers.core.outbox import not_sent, record_outcome
from handlers.core.replies import Card
from storage import claims
from storage.claims import Outbox

if TYPE_CHECKING:
    from handlers.core.registry import Engine

log = logging.getLogger(__name__)


class Caller(Protocol):
    """Runs a synchronous step in one unit of work (``bot.runtime.Runtime``)."""

    async def call(self, step: Callable[..., Any], *args: Any) -> Any: ...


# A claim not refreshed for this long belongs to a process that died: another may take the
# row over (and looks for the message on the platform first). A live process refreshes its
# claims every RENEW_EVERY while the call is in flight, however long a 429 makes it wait.
LEASE = timedelta(seconds=20)
RENEW_EVERY = 5.0


class Claims:
    """The outbox rows this process has claimed (storage/claims.py) and is delivering; their
    claim times are refreshed while any is held, so no other process takes them over."""

    def __init__(self, runtime: Caller) -> None:
        # Weakly: the registry below is keyed by the runtime, which must be free to go.
        self._runtime = weakref.ref(runtime)
        self._held: dict[Outbox, set[int]] = {}
        self._renewer: asyncio.Task[None] | None = None

    def runtime(self) -> Caller:
        runtime = self._runtime()
        if runtime is None:
            raise RuntimeError("the runtime of these claims is gone")
        return runtime

    async def take(
        self, outbox: Outbox, row_id: int, seen: str, recipient: tuple[str, str] | None = None
    ) -> bool:
        """With ``recipient`` (platform, user id), a DM: not claimed while that person is not
        working (handlers/core/workdays.py); the row stays as it is for a later tick."""

        def step(ctx: Any) -> bool:
            session = ctx.session
            if recipient is not None:
                held = workdays.hold_for(session, *recipient, ctx.now(), ctx.zone)
                if held is not None:
                    log.debug("%s %s: held until %s (working days)", outbox.name, row_id, held)
                    return False
            return claims.claim(session, outbox, row_id, seen, ctx.now(), LEASE)

        return await self._took(outbox, row_id, await self.runtime().call(step))

    async def take_with(
        self,
        outbox: Outbox,
        row_id: int,
        claim: Callable[[Session, int, datetime, timedelta], bool],
    ) -> bool:
        """A claim of a feature's own kind (``claim(session, row_id, now, lease)``), held and
        refreshed like every other."""

        def step(ctx: Any) -> bool:
            return claim(ctx.session, row_id, ctx.now(), LEASE)

        return await self._took(outbox, row_id, await self.runtime().call(step))

    async def _took(self, outbox: Outbox, row_id: int, taken: bool) -> bool:
        if taken:
            self._held.setdefault(outbox, set()).add(row_id)
            if self._renewer is None or self._renewer.done():
                self._renewer = asyncio.ensure_future(self._renew())
        return taken

    async def finish(
        self, outbox: Outbox, row_id: int, step: Callable[..., None] | None, *args: Any
    ) -> None:
        """``step(ctx, row_id, *args)`` (the outcome), and the claim let go in the same
        transaction. Without a step the row stays as it is, free for whoever comes next."""

        def work(ctx: Any) -> None:
            if step is not None:
                step(ctx, row_id, *args)
            claims.release(ctx.session, outbox, row_id)

        try:
            await self.runtime().call(work)
        finally:
            self.forget(outbox, row_id)

    def forget(self, outbox: Outbox, row_id: int) -> None:
        """No longer refreshed here (the claim expires after LEASE if it was not let go)."""
        held = self._held.get(outbox)
        if held is not None:
            held.discard(row_id)
            if not held:
                del self._held[outbox]
        if not self._held and self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None

    async def _renew(self) -> None:
        while self._held:
            await asyncio.sleep(RENEW_EVERY)
            for outbox, held in list(self._held.items()):
                ids = frozenset(held)

                def step(ctx: Any, outbox: Outbox = outbox, ids: frozenset[int] = ids) -> None:
                    claims.renew(ctx.session, outbox, ids, ctx.now())

                try:
                    await self.runtime().call(step)
                except Exception as exc:
                    log.warning(
                        "could not refresh %d %s claims: %s",
                        len(ids),
                        outbox.name,
                        type(exc).__name__,
                    )


_claims: weakref.WeakKeyDictionary[Caller, Claims] = weakref.WeakKeyDictionary()


def claims_of(runtime: Caller) -> Claims:
    """This process's claims on the database of ``runtime``."""
    found = _claims.get(runtime)
    if found is None:
        found = _claims[runtime] = Claims(runtime)
    return found


@dataclass(frozen=True)
class OutboxSteps:
    """The engine steps of one kind of outbox DM, each run in a transaction of its own: the
    row is claimed (``outbox``, storage/claims.py) before the call; ``unsent(ctx, id)`` when
    the platform proved nothing was posted, ``done(ctx, id, message_id, error)`` after. By
    default both work on the outbox's row itself (``not_sent``, ``record_outcome``); a row
    with other columns brings its own ``done``."""

    outbox: Outbox
    done: Callable[..., None] | None = None
    # A DM about something happening right now that the person joined (a speedspar round),
    # or the answer to their own step (the welcome after joining a channel): sent on any
    # day. Every other DM waits for the person's working day.
    live: bool = False

    def unsent(self, ctx: Any, row_id: int) -> None:
        not_sent(self._row(ctx, row_id), self.outbox.status, self.outbox.sending)

    def finished(self, ctx: Any, row_id: int, message_id: str | None, error: str | None) -> None:
        if self.done is not None:
            self.done(ctx, row_id, message_id, error)
        elif (row := self._row(ctx, row_id)) is not None:
            record_outcome(row, message_id, error, ctx.now())

    def _row(self, ctx: Any, row_id: int) -> Any:
        return ctx.session.get(self.outbox.model, row_id)


async def direct_once(
    runtime: Caller,
    semaphore: asyncio.Semaphore,
    messenger: Messenger,
    steps: OutboxSteps,
    row_id: int,
    status: str,
    user_id: str,
    card: Card,
    key: str,
) -> bool:
    """One outbox DM, sent only by the process that claimed its row: ``pending``, or
    ``sending`` with nobody at it (the answer was lost, or the process that claimed it died).
    A row found ``sending`` is looked for by its key first. Marked after: sent, or failed for
    good. A transient failure leaves it for the next tick (back to ``pending`` when the
    platform proved nothing was posted). A DM to someone on a day they do not work is left
    ``pending`` until their next working day (handlers/core/workdays.py), unless
    ``steps.live``."""
    async with semaphore:
        held = claims_of(runtime)
        recipient = None if steps.live else (messenger.platform, user_id)
        if not await held.take(steps.outbox, row_id, status, recipient):
            return False  # another process has it (had it meanwhile), or it is a day off
        try:
            ref = None
            if status != "pending":
                ref = await messenger.find_direct(user_id, key)
                if ref is not None:
                    log.info("%s: DM to %s was already sent", key, user_id)
            if ref is None:
                ref = await messenger.direct(user_id, card, key=key)
        except DeliveryFailed as exc:
            if exc.reason in PERMANENT:
                await held.finish(steps.outbox, row_id, steps.finished, None, exc.reason)
                log.warning("%s: DM to %s failed: %s", key, user_id, exc.reason)
            else:
                unsent = steps.unsent if exc.reason in NOT_SENT else None
                await held.finish(steps.outbox, row_id, unsent)
                log.warning("%s: DM to %s postponed: %s", key, user_id, exc.reason)
            return False
        except BaseException:
            held.forget(steps.outbox, row_id)
            raise
        await held.finish(steps.outbox, row_id, steps.finished, ref.message_id, None)
        return True


async def all_done(sends: Iterable[Awaitable[bool]]) -> int:
    """How many were sent. Every send finishes (or fails) before the tick ends: a send left
    running while the next tick starts could find its row "sending", miss its DM in flight,
    and send it again."""
    results = await asyncio.gather(*sends, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return sum(result is True for result in results)


@dataclass(frozen=True)
class OwedDM:
    """One direct message a feature owes someone: its outbox row and what to send."""

    row_id: int
    status: str
    platform: str
    user_id: str
    card: Card
    key: str

    @classmethod
    def of(cls, outbox: Outbox, row: Any, member: Any, card: Card) -> OwedDM:
        """The DM of an outbox ``row`` (its ``id`` and ``status``) to ``member`` (a Member)."""
        return cls(
            row.id,
            row.status,
            member.platform,
            member.platform_user_id,
            card,
            outbox_key(outbox.name, row.id),
        )


async def send_owed(
    engine: Engine, steps: OutboxSteps, items: Iterable[OwedDM], *, give_up_unreachable: bool
) -> int:
    """Send each owed DM once (``direct_once``) and wait for all of them. A DM for a platform
    that is not connected is marked failed with the reason (``give_up_unreachable``), or left
    pending for a later tick."""
    sends = []
    for item in items:
        try:
            messenger = engine.messengers.get(item.platform)
        except DeliveryFailed as exc:
            if give_up_unreachable:
                await engine.call(steps.finished, item.row_id, None, exc.reason)
            else:
                log.warning("%s %s: %s", steps.outbox.name, item.row_id, exc.reason)
            continue
        sends.append(
            direct_once(
                engine.runtime,
                engine.semaphore,
                messenger,
                steps,
                item.row_id,
                item.status,
                item.user_id,
                item.card,
                item.key,
            )
        )
    return await all_done(sends)
