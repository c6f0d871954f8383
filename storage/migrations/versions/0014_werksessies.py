"""werksessies: a guided consultation on a casus, its participants, posts, bijdragen per
phase and async reminders

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

STATUSES = ("open", "running", "paused", "finished", "stopped")


def upgrade() -> None:
    op.create_table(
        "werksessies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "casus_id",
            sa.Integer(),
            sa.ForeignKey(
                "casussen.id", ondelete="CASCADE", name="fk_werksessies_casus_id_casussen"
            ),
            nullable=False,
        ),
        sa.Column("method", sa.String(50), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column(
            "begeleider_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_werksessies_begeleider_id_members"),
            nullable=False,
        ),
        sa.Column(
            "started_by_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_werksessies_started_by_id_members"),
            nullable=False,
        ),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="werksessiestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("phase_started_at", UTCDateTime(), nullable=True),
        sa.Column("phase_ends_at", UTCDateTime(), nullable=True),
        sa.Column("paused_left_seconds", sa.Integer(), nullable=True),
        sa.Column("phases_done", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_werksessies"),
    )
    op.create_index("ix_werksessies_casus_id", "werksessies", ["casus_id"])
    op.create_index("ix_werksessies_created_at", "werksessies", ["created_at"])
    op.create_index(
        "ix_werksessies_status_phase_ends_at", "werksessies", ["status", "phase_ends_at"]
    )

    op.create_table(
        "werksessie_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey(
                "werksessies.id",
                ondelete="CASCADE",
                name="fk_werksessie_participants_session_id_werksessies",
            ),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_werksessie_participants_member_id_members"),
            nullable=False,
        ),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_werksessie_participants"),
        sa.UniqueConstraint(
            "session_id", "member_id", name="uq_werksessie_participants_session_id"
        ),
    )
    op.create_index(
        "ix_werksessie_participants_member_id", "werksessie_participants", ["member_id"]
    )

    op.create_table(
        "werksessie_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey(
                "werksessies.id",
                ondelete="CASCADE",
                name="fk_werksessie_posts_session_id_werksessies",
            ),
            nullable=False,
        ),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("error", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_werksessie_posts"),
        sa.UniqueConstraint("session_id", "phase", "kind", name="uq_werksessie_posts_session_id"),
    )

    op.create_table(
        "werksessie_bijdragen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey(
                "werksessies.id",
                ondelete="CASCADE",
                name="fk_werksessie_bijdragen_session_id_werksessies",
            ),
            nullable=False,
        ),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column(
            "author_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_werksessie_bijdragen_author_id_members"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("nudged", sa.String(20), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_werksessie_bijdragen"),
        sa.UniqueConstraint(
            "session_id", "message_id", name="uq_werksessie_bijdragen_session_id"
        ),
    )
    op.create_index(
        "ix_werksessie_bijdragen_session_id", "werksessie_bijdragen", ["session_id"]
    )
    op.create_index("ix_werksessie_bijdragen_author_id", "werksessie_bijdragen", ["author_id"])

    op.create_table(
        "werksessie_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey(
                "werksessies.id",
                ondelete="CASCADE",
                name="fk_werksessie_reminders_session_id_werksessies",
            ),
            nullable=False,
        ),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", name="fk_werksessie_reminders_member_id_members"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.String(100), nullable=True),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_werksessie_reminders"),
        sa.UniqueConstraint(
            "session_id", "phase", "member_id", name="uq_werksessie_reminders_session_id"
        ),
    )
    op.create_index(
        "ix_werksessie_reminders_member_id", "werksessie_reminders", ["member_id"]
    )
    where = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_werksessie_reminders_unsent",
        "werksessie_reminders",
        ["status"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    for table in (
        "werksessie_reminders",
        "werksessie_bijdragen",
        "werksessie_posts",
        "werksessie_participants",
        "werksessies",
    ):
        op.drop_table(table)
