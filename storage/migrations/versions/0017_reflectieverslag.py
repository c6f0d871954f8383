"""reflectieverslag: each person's three-dimension reflection on a werksessie (also the
outbox row of the question), and how long they keep their own record

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "werksessie_reflecties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey(
                "werksessies.id",
                ondelete="CASCADE",
                name="fk_werksessie_reflecties_session_id_werksessies",
            ),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_werksessie_reflecties_member_id_members"),
            nullable=False,
        ),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.String(100), nullable=True),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("technisch", sa.Text(), nullable=True),
        sa.Column("normatief", sa.Text(), nullable=True),
        sa.Column("persoonlijk", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_werksessie_reflecties"),
        sa.UniqueConstraint(
            "session_id", "member_id", name="uq_werksessie_reflecties_session_id"
        ),
    )
    op.create_index(
        "ix_werksessie_reflecties_member_id", "werksessie_reflecties", ["member_id"]
    )
    where = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_werksessie_reflecties_unsent",
        "werksessie_reflecties",
        ["status"],
        sqlite_where=where,
        postgresql_where=where,
    )
    op.create_table(
        "reflectie_bewaring",
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_reflectie_bewaring_member_id_members"),
            nullable=False,
        ),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_reflectie_bewaring"),
    )


def downgrade() -> None:
    op.drop_table("reflectie_bewaring")
    op.drop_table("werksessie_reflecties")
