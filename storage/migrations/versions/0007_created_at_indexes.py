"""indexes on created_at: a harvest of a short period reads only that period

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("casussen", "bijdragen", "answers")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_created_at", table, ["created_at"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_created_at", table_name=table)
