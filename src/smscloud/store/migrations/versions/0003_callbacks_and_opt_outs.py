"""callbacks and opt-outs

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("keyword", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "phone", name=op.f("pk_opt_outs")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "callback_state", sa.SmallInteger(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "callback_attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("callback_next_at", sa.Float(), nullable=True))
        batch_op.create_index(
            "ix_messages_callback_due",
            ["callback_next_at"],
            unique=False,
            sqlite_where=sa.text("callback_state = 1"),
            postgresql_where=sa.text("callback_state = 1"),
        )

    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "callback_state", sa.SmallInteger(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "callback_attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("callback_next_at", sa.Float(), nullable=True))
        batch_op.create_index(
            "ix_replies_callback_due",
            ["callback_next_at"],
            unique=False,
            sqlite_where=sa.text("callback_state = 1"),
            postgresql_where=sa.text("callback_state = 1"),
        )


def downgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_replies_callback_due",
            sqlite_where=sa.text("callback_state = 1"),
            postgresql_where=sa.text("callback_state = 1"),
        )
        batch_op.drop_column("callback_next_at")
        batch_op.drop_column("callback_attempts")
        batch_op.drop_column("callback_state")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_messages_callback_due",
            sqlite_where=sa.text("callback_state = 1"),
            postgresql_where=sa.text("callback_state = 1"),
        )
        batch_op.drop_column("callback_next_at")
        batch_op.drop_column("callback_attempts")
        batch_op.drop_column("callback_state")

    op.drop_table("opt_outs")
