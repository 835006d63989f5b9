"""carrier health

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
    op.create_table(
        "carrier_health",
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("binds", sa.Integer(), nullable=False),
        sa.Column("bound", sa.Integer(), nullable=False),
        sa.Column("window_in_use", sa.Integer(), nullable=False),
        sa.Column("window_size", sa.Integer(), nullable=False),
        sa.Column("submits_per_s", sa.Float(), nullable=False),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("carrier", "worker", name=op.f("pk_carrier_health")),
    )


def downgrade() -> None:
    op.drop_table("carrier_health")
