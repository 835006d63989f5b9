"""voice pushes: one outbox row per callback body, not one push state per call

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CALLBACK_DUE = sa.text("callback_state = 1")


def upgrade() -> None:
    op.drop_index("ix_voice_calls_callback_due", table_name="voice_calls")
    with op.batch_alter_table("voice_calls") as batch:
        for column in ("callback_next_at", "callback_attempts", "callback_state"):
            batch.drop_column(column)
    op.create_table(
        "voice_pushes",
        sa.Column("id", Id, nullable=False),
        sa.Column("call_row", Id, nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("callback_state", sa.SmallInteger(), nullable=False),
        sa.Column("callback_attempts", sa.SmallInteger(), nullable=False),
        sa.Column("callback_next_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_row"], ["voice_calls.id"], name=op.f("fk_voice_pushes_call_row_voice_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_pushes")),
    )
    op.create_index(op.f("ix_voice_pushes_call_row"), "voice_pushes", ["call_row"])
    op.create_index(
        "ix_voice_pushes_callback_due",
        "voice_pushes",
        ["callback_next_at"],
        sqlite_where=CALLBACK_DUE,
        postgresql_where=CALLBACK_DUE,
    )


def downgrade() -> None:
    op.drop_table("voice_pushes")
    with op.batch_alter_table("voice_calls") as batch:
        batch.add_column(
            sa.Column("callback_state", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("callback_attempts", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("callback_next_at", sa.Float(), nullable=True))
    op.create_index(
        "ix_voice_calls_callback_due",
        "voice_calls",
        ["callback_next_at"],
        sqlite_where=CALLBACK_DUE,
        postgresql_where=CALLBACK_DUE,
    )
