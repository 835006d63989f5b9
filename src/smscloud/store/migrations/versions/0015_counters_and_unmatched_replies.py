"""unmatched replies and delivery counters

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unmatched_replies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("destination", sa.String(length=24), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("stored_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_replies")),
    )
    op.create_index(
        "ix_unmatched_replies_received_at", "unmatched_replies", ["received_at"], unique=False
    )
    op.create_table(
        "delivery_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_delivery_counters")),
    )


def downgrade() -> None:
    op.drop_table("delivery_counters")
    op.drop_index("ix_unmatched_replies_received_at", table_name="unmatched_replies")
    op.drop_table("unmatched_replies")
