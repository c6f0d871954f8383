"""anonymous casus: no member link, a keyed hash for closing

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("casussen", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("inbrenger_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("casussen", schema=None) as batch_op:
        batch_op.drop_column("inbrenger_hash")
        batch_op.drop_column("anonymous")
