"""indexes for the outbox rows the scheduler looks for at every tick

Revision ID: 0011
Revises: 0010

Partial on both databases: only the rows still waiting (``pending``, or ``sending`` /
``posting`` when a process stopped) are in them, and nearly every row is sent. The queries
write the states as literals (storage/models.py, ``waiting``) so that SQLite, too, can match
them to the index's WHERE.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# (index, table, columns, the status column, the states it holds)
INDEXES = (
    ("ix_prompt_deliveries_status", "prompt_deliveries", ["status", "run_id"],
     "status", ("pending", "sending")),
    ("ix_prompt_deliveries_reminder_status", "prompt_deliveries", ["reminder_status", "run_id"],
     "reminder_status", ("pending", "sending")),
    ("ix_prompt_runs_summary_status", "prompt_runs", ["summary_status"],
     "summary_status", ("pending", "posting")),
    ("ix_member_profiles_welcome_status", "member_profiles", ["welcome_status"],
     "welcome_status", ("pending", "sending")),
)


def upgrade() -> None:
    for name, table, columns, status, states in INDEXES:
        listed = ", ".join(f"'{state}'" for state in states)
        where = sa.text(f"{status} IN ({listed})")
        op.create_index(name, table, columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, table, *_ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
