"""praktijkvoorbeelden: good practices shared in the four parts of the NJi checklist, each
member's translation to their own practice (a 0-10 score, elements, a step for tomorrow) and
the follow-up of those steps

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "praktijkvoorbeelden",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "channel_id",
            sa.Integer(),
            sa.ForeignKey("channels.id", name="fk_praktijkvoorbeelden_channel_id_channels"),
            nullable=False,
        ),
        sa.Column(
            "author_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_praktijkvoorbeelden_author_id_members"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("aim", sa.Text(), nullable=False),
        sa.Column("changed", sa.Text(), nullable=False),
        sa.Column("success_factors", sa.Text(), nullable=True),
        sa.Column("bottlenecks", sa.Text(), nullable=True),
        sa.Column("process", sa.Text(), nullable=False),
        sa.Column("tips", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_praktijkvoorbeelden"),
    )
    op.create_index(
        "ix_praktijkvoorbeelden_channel_id", "praktijkvoorbeelden", ["channel_id"]
    )
    op.create_index("ix_praktijkvoorbeelden_author_id", "praktijkvoorbeelden", ["author_id"])
    op.create_index(
        "ix_praktijkvoorbeelden_created_at", "praktijkvoorbeelden", ["created_at"]
    )

    op.create_table(
        "praktijk_vertalingen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "practice_id",
            sa.Integer(),
            sa.ForeignKey(
                "praktijkvoorbeelden.id",
                ondelete="CASCADE",
                name="fk_praktijk_vertalingen_practice_id_praktijkvoorbeelden",
            ),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_praktijk_vertalingen_member_id_members"),
            nullable=False,
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("take_along", sa.Text(), nullable=True),
        sa.Column("leave_out", sa.Text(), nullable=True),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("step", sa.Text(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_praktijk_vertalingen"),
        sa.UniqueConstraint(
            "practice_id", "member_id", name="uq_praktijk_vertalingen_practice_id"
        ),
    )
    op.create_index(
        "ix_praktijk_vertalingen_practice_id", "praktijk_vertalingen", ["practice_id"]
    )
    op.create_index(
        "ix_praktijk_vertalingen_member_id", "praktijk_vertalingen", ["member_id"]
    )
    op.create_index(
        "ix_praktijk_vertalingen_created_at", "praktijk_vertalingen", ["created_at"]
    )

    op.create_table(
        "praktijk_vervolgen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "translation_id",
            sa.Integer(),
            sa.ForeignKey(
                "praktijk_vertalingen.id",
                ondelete="CASCADE",
                name="fk_praktijk_vervolgen_translation_id_praktijk_vertalingen",
            ),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_praktijk_vervolgen_member_id_members"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.String(100), nullable=True),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("how_it_went", sa.Text(), nullable=True),
        sa.Column("learned", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_praktijk_vervolgen"),
        sa.UniqueConstraint("translation_id", name="uq_praktijk_vervolgen_translation_id"),
    )
    op.create_index("ix_praktijk_vervolgen_member_id", "praktijk_vervolgen", ["member_id"])
    where = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_praktijk_vervolgen_unsent",
        "praktijk_vervolgen",
        ["status"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    for table in ("praktijk_vervolgen", "praktijk_vertalingen", "praktijkvoorbeelden"):
        op.drop_table(table)
