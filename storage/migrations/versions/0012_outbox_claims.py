"""claim times on the outbox rows, so several processes can deliver the same run

Revision ID: 0012
Revises: 0011

A row moves ``pending`` -> ``sending`` (``posting``) only by a conditional UPDATE that checks
its state, and the process that did it writes the time into the row's claim column and keeps
it fresh while the call is in flight (bot/outbox.py). A claim left by a process that died
expires after a lease; a row left ``sending`` with no claim (the answer was lost) may be taken
by anyone at once, and is looked for on the platform first. ``prompt_runs.claimed_at`` guards
the channel post and the listing of recipients of a run, ``speedspar_sessions.post_claimed_at``
a session's pending channel post.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = (
    ("prompt_runs", "claimed_at"),
    ("prompt_runs", "summary_claimed_at"),
    ("prompt_deliveries", "claimed_at"),
    ("prompt_deliveries", "reminder_claimed_at"),
    ("member_profiles", "welcome_claimed_at"),
    ("speedspar_messages", "claimed_at"),
    ("speedspar_sessions", "post_claimed_at"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
