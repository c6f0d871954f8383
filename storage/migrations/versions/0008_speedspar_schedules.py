"""speedsparren on a schedule: session options on schedules, the firing on the session

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rounds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deck", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("signup_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("facilitator_fills", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("speedspar_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fire_key", sa.String(length=120), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_speedspar_sessions_schedule_id_schedules"),
            "schedules",
            ["schedule_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_speedspar_sessions_fire_key"), ["fire_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("speedspar_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_speedspar_sessions_fire_key"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_speedspar_sessions_schedule_id_schedules"), type_="foreignkey"
        )
        batch_op.drop_column("fire_key")
        batch_op.drop_column("schedule_id")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("facilitator_fills")
        batch_op.drop_column("signup_minutes")
        batch_op.drop_column("deck")
        batch_op.drop_column("minutes")
        batch_op.drop_column("rounds")
