"""werksessie follow-ups: the next cycle of a method that asks for one (ALACT's uitproberen),
sent once to the inbrenger at its time

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "werksessie_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey(
                "werksessies.id",
                ondelete="CASCADE",
                name="fk_werksessie_followups_session_id_werksessies",
            ),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_werksessie_followups_member_id_members"),
            nullable=False,
        ),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.String(100), nullable=True),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_werksessie_followups"),
        sa.UniqueConstraint("session_id", name="uq_werksessie_followups_session_id"),
    )
    op.create_index(
        "ix_werksessie_followups_member_id", "werksessie_followups", ["member_id"]
    )
    where = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_werksessie_followups_unsent",
        "werksessie_followups",
        ["status"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_table("werksessie_followups")
