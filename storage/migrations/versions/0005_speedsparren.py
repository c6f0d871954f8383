"""speedsparren and member profiles

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = storage.models.UTCDateTime(timezone=True)


def _session_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"],
        ["speedspar_sessions.id"],
        name=op.f(f"fk_{table}_session_id_speedspar_sessions"),
        ondelete="CASCADE",
    )


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["member_id"], ["members.id"], name=op.f(f"fk_{table}_member_id_members")
    )


def upgrade() -> None:
    op.create_table(
        "member_profiles",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("expertise", sa.JSON(), nullable=False),
        sa.Column("welcomed_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_profiles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_profiles")),
    )
    op.create_table(
        "speedspar_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "running",
                "closing",
                "closed",
                "cancelled",
                name="speedsparstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("deck", sa.String(length=40), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("facilitator_fills", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("current_round", sa.Integer(), nullable=False),
        sa.Column("round_ends_at", UTC, nullable=True),
        sa.Column("closing_until", UTC, nullable=True),
        sa.Column("cancel_reason", sa.String(length=40), nullable=True),
        sa.Column("post_pending", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_speedspar_sessions_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_speedspar_sessions_created_by_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speedspar_sessions")),
    )
    with op.batch_alter_table("speedspar_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_speedspar_sessions_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_speedspar_sessions_status"), ["status"], unique=False)

    op.create_table(
        "speedspar_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("left_at", UTC, nullable=True),
        sa.Column("joined_at", UTC, nullable=False),
        _member_fk("speedspar_participants"),
        _session_fk("speedspar_participants"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speedspar_participants")),
        sa.UniqueConstraint(
            "session_id", "member_id", name=op.f("uq_speedspar_participants_session_id")
        ),
    )
    with op.batch_alter_table("speedspar_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_speedspar_participants_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "speedspar_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cross_org", sa.Boolean(), nullable=False),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        _member_fk("speedspar_seats"),
        _session_fk("speedspar_seats"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speedspar_seats")),
        sa.UniqueConstraint(
            "session_id", "round", "member_id", name=op.f("uq_speedspar_seats_session_id")
        ),
    )
    with op.batch_alter_table("speedspar_seats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_speedspar_seats_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "speedspar_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.String(length=100), nullable=True),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        _session_fk("speedspar_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speedspar_messages")),
        sa.UniqueConstraint(
            "session_id",
            "kind",
            "round",
            "user_id",
            name=op.f("uq_speedspar_messages_session_id"),
        ),
    )
    with op.batch_alter_table("speedspar_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_speedspar_messages_status"), ["status"], unique=False)

    op.create_table(
        "speedspar_takeaways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _member_fk("speedspar_takeaways"),
        _session_fk("speedspar_takeaways"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speedspar_takeaways")),
        sa.UniqueConstraint(
            "session_id", "member_id", name=op.f("uq_speedspar_takeaways_session_id")
        ),
    )
    with op.batch_alter_table("speedspar_takeaways", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_speedspar_takeaways_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("speedspar_takeaways")
    op.drop_table("speedspar_messages")
    op.drop_table("speedspar_seats")
    op.drop_table("speedspar_participants")
    op.drop_table("speedspar_sessions")
    op.drop_table("member_profiles")
