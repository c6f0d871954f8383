"""What happened to one outgoing message: shared by every fan-out (reflection, speedsparren)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class OutgoingRow(Protocol):
    status: str
    message_id: str | None
    sent_at: datetime | None
    error: str | None


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
