"""purge_log: every retention purge that replaced texts (when, cut-off, counts; no text)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purge_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purged_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("cutoff", UTCDateTime(timezone=True), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("casussen", sa.Integer(), nullable=False),
        sa.Column("bijdragen", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("takeaways", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_log")),
    )
    op.create_index(op.f("ix_purge_log_purged_at"), "purge_log", ["purged_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_purge_log_purged_at"), table_name="purge_log")
    op.drop_table("purge_log")
