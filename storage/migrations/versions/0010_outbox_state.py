"""outbox state: stored DM channels, reminder and summary delivery, pending welcomes

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "direct_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("channel_id", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_direct_channels")),
        sa.UniqueConstraint("platform", "user_id", name=op.f("uq_direct_channels_platform")),
    )
    with op.batch_alter_table("prompt_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_status", sa.String(length=20), nullable=True))
    with op.batch_alter_table("prompt_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_status", sa.String(length=20), nullable=True))
    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("welcome_status", sa.String(length=20), nullable=True))
    # What was sent (or marked welcomed) before this revision counts as sent.
    op.execute("UPDATE member_profiles SET welcome_status = 'sent' WHERE welcomed_at IS NOT NULL")
    op.execute(
        "UPDATE prompt_deliveries SET reminder_status = 'sent' WHERE reminded_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.drop_column("welcome_status")
    with op.batch_alter_table("prompt_runs", schema=None) as batch_op:
        batch_op.drop_column("summary_status")
    with op.batch_alter_table("prompt_deliveries", schema=None) as batch_op:
        batch_op.drop_column("reminder_status")
    op.drop_table("direct_channels")
