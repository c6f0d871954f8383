"""meedenken: requests to think along on a casus; working days and the meedenk opt-out on
the member profile

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member_profiles") as batch:
        batch.add_column(sa.Column("work_days", sa.String(7), nullable=True))
        batch.add_column(
            sa.Column(
                "open_to_requests", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    op.create_table(
        "meedenk_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "casus_id",
            sa.Integer(),
            sa.ForeignKey(
                "casussen.id", ondelete="CASCADE", name="fk_meedenk_requests_casus_id_casussen"
            ),
            nullable=False,
        ),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey(
                "members.id", ondelete="CASCADE", name="fk_meedenk_requests_member_id_members"
            ),
            nullable=False,
        ),
        sa.Column(
            "asked_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "members.id", ondelete="SET NULL", name="fk_meedenk_requests_asked_by_id_members"
            ),
            nullable=True,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.String(100), nullable=True),
        sa.Column("message_id", sa.String(100), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meedenk_requests"),
        sa.UniqueConstraint("casus_id", "member_id", name="uq_meedenk_requests_casus_id"),
    )
    op.create_index(
        "ix_meedenk_requests_member_created", "meedenk_requests", ["member_id", "created_at"]
    )
    op.create_index("ix_meedenk_requests_asked_by_id", "meedenk_requests", ["asked_by_id"])
    where = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_meedenk_requests_unsent",
        "meedenk_requests",
        ["status"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_table("meedenk_requests")
    with op.batch_alter_table("member_profiles") as batch:
        batch.drop_column("open_to_requests")
        batch.drop_column("work_days")
