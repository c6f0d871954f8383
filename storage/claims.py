"""Atomic claims on outbox rows, so that any number of processes can deliver the same work
and each message still goes out once.

A claim is one conditional UPDATE: the row moves to ``sending`` (``posting``) only if it is
still in the state the caller saw, and the database says whether this process was the one
(``rowcount``). On PostgreSQL a second UPDATE of the same row waits for the first to commit
and then finds the state changed; SQLite has one writer at a time. The claim column holds
when the claim was made, refreshed while the call is in flight (handlers/core/sending.py): a
claim older than the lease belongs to a process that died and may be taken over. A row left
``sending`` with no claim time (its answer was lost) may be taken at once; it is looked for on
the platform before it is sent again."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, and_, or_, update
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Outbox:
    """One kind of outgoing row: its table, key, state column and claim column. Each feature
    declares its own (e.g. handlers/reflection/queries.py)."""

    name: str
    model: type[Any]
    key: str
    status: str
    claimed_at: str
    sending: str = "sending"

    def __post_init__(self) -> None:
        _declared.append(self)

    def _column(self, name: str) -> Any:
        return getattr(self.model, name)


_declared: list[Outbox] = []


def declared() -> list[Outbox]:
    """Every outbox the loaded features declared (for the metrics, bot/metrics.py)."""
    return list(_declared)


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def claim(
    session: Session, outbox: Outbox, row_id: int, seen: str, now: datetime, lease: timedelta
) -> bool:
    """Take the row for this process: ``pending`` -> ``sending``, or a ``sending`` row nobody
    is at (no claim, or one older than ``lease``). False when another process has it, or it
    is no longer in the state ``seen``."""
    status, claimed_at = outbox._column(outbox.status), outbox._column(outbox.claimed_at)
    if seen == "pending":
        free = status == "pending"
    elif seen == outbox.sending:
        free = and_(
            status == outbox.sending,
            or_(claimed_at.is_(None), claimed_at < now - lease),
        )
    else:
        return False
    result = session.execute(
        update(outbox.model)
        .where(outbox._column(outbox.key) == row_id, free)
        .values({outbox.status: outbox.sending, outbox.claimed_at: now})
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def release(session: Session, outbox: Outbox, row_id: int) -> None:
    """Nobody is at the row any more (sent, failed, or left for a later try)."""
    session.execute(
        update(outbox.model)
        .where(outbox._column(outbox.key) == row_id)
        .values({outbox.claimed_at: None})
        .execution_options(synchronize_session=False)
    )


def renew(session: Session, outbox: Outbox, row_ids: Collection[int], now: datetime) -> None:
    """Still at it: the claims of rows in flight are refreshed so no one takes them over."""
    if row_ids:
        session.execute(
            update(outbox.model)
            .where(
                outbox._column(outbox.key).in_(list(row_ids)),
                outbox._column(outbox.claimed_at).is_not(None),
            )
            .values({outbox.claimed_at: now})
            .execution_options(synchronize_session=False)
        )


def claim_if(
    session: Session,
    outbox: Outbox,
    row_id: int,
    still_owed: ColumnElement[bool],
    now: datetime,
    lease: timedelta,
) -> bool:
    """Take a row's work while ``still_owed`` holds and nobody else is at it (or their claim
    is older than ``lease``): for work that is not a pending/sending state, such as a post a
    feature still owes. The feature says what "still owed" means."""
    claimed_at = outbox._column(outbox.claimed_at)
    result = session.execute(
        update(outbox.model)
        .where(
            outbox._column(outbox.key) == row_id,
            still_owed,
            or_(claimed_at.is_(None), claimed_at < now - lease),
        )
        .values({outbox.claimed_at: now})
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1
