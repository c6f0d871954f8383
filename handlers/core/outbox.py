"""The states of one outgoing message, shared by everything the bot sends on its own
(prompt DMs, reminders, closing summaries, speedspar DMs, welcomes).

``pending`` -> ``sending`` is committed before the platform call, by a claim that only one
process can win (storage/claims.py): a row still ``sending`` after a crash may have reached
the person, so it is looked up on the platform before it is sent again. An answer that
proves nothing was posted puts it back to ``pending``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class OutgoingRow(Protocol):
    status: str
    message_id: str | None
    sent_at: datetime | None
    error: str | None


def not_sent(row: object | None, field: str = "status", sending: str = "sending") -> None:
    """The platform answered that nothing was posted: back to ``pending``, no look-up needed
    before the next try."""
    if row is not None and getattr(row, field) == sending:
        setattr(row, field, "pending")


def record_outcome(
    row: OutgoingRow, message_id: str | None, error: str | None, at: datetime
) -> None:
    """Sent (with the platform's message id) or failed for good (with the platform's code)."""
    if error is None:
        row.status = "sent"
        row.message_id = message_id
        row.sent_at = at
    else:
        row.status = "failed"
        row.error = error[:100]
