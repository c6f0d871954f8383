"""revoked_workspaces: a workspace that uninstalled the app or revoked its token

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_workspaces",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("team_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "team_id", name=op.f("pk_revoked_workspaces")),
    )


def downgrade() -> None:
    op.drop_table("revoked_workspaces")
