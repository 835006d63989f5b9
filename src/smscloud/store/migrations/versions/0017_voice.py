"""voice: templates, files, calls, and each application's voice settings

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CALL_QUEUED = sa.text("state = 'QUEUED'")
CALL_LIVE = sa.text("state IN ('CLAIMED', 'CALLING', 'RINGING', 'ANSWERED')")
CALLBACK_DUE = sa.text("callback_state = 1")


def _reviewed(name: str, *columns: sa.Column[object] | sa.UniqueConstraint) -> None:
    op.create_table(
        name,
        sa.Column("id", Id, nullable=False),
        sa.Column("tenant_id", Id, nullable=False),
        *columns,
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("review_reply", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("reviewed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{name}_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_tenant_id"), name, ["tenant_id"], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(
            sa.Column("voice_callback_url", sa.Text(), nullable=False, server_default="")
        )
        for column, default in (("voice_per_30s", "1"), ("voice_per_10min", "2")):
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True, server_default=default))
        batch.add_column(
            sa.Column("voice_per_day", sa.Integer(), nullable=True, server_default="3")
        )
        batch.add_column(
            sa.Column("voice_quiet_start", sa.Integer(), nullable=False, server_default="1320")
        )
        batch.add_column(
            sa.Column("voice_quiet_end", sa.Integer(), nullable=False, server_default="480")
        )
    _reviewed(
        "voice_templates",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
    )
    _reviewed(
        "voice_files",
        sa.Column("fid", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.UniqueConstraint("tenant_id", "fid", name=op.f("uq_voice_files_tenant_id")),
    )
    op.create_table(
        "voice_calls",
        sa.Column("id", Id, nullable=False),
        sa.Column("call_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("nation_code", sa.String(length=8), nullable=False),
        sa.Column("iso_code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("template_id", sa.BigInteger(), nullable=True),
        sa.Column("file_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("play_times", sa.SmallInteger(), nullable=False),
        sa.Column("session_context", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("dialled_at", sa.Float(), nullable=True),
        sa.Column("ringing_at", sa.Float(), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("sip_status", sa.Integer(), nullable=False),
        sa.Column("failure_code", sa.SmallInteger(), nullable=False),
        sa.Column("hung_up_by", sa.String(length=8), nullable=False),
        sa.Column("keys", sa.String(length=64), nullable=False),
        sa.Column("fee_minutes", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("recording", sa.Text(), nullable=False),
        sa.Column("callback_state", sa.SmallInteger(), nullable=False),
        sa.Column("callback_attempts", sa.SmallInteger(), nullable=False),
        sa.Column("callback_next_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_calls")),
        sa.UniqueConstraint("call_id", name=op.f("uq_voice_calls_call_id")),
    )
    op.create_index(
        "ix_voice_calls_phone_app_time", "voice_calls", ["phone", "app_id", "created_at"]
    )
    op.create_index("ix_voice_calls_tenant_time", "voice_calls", ["tenant_id", "created_at"])
    op.create_index(
        "ix_voice_calls_queued",
        "voice_calls",
        ["id"],
        sqlite_where=CALL_QUEUED,
        postgresql_where=CALL_QUEUED,
    )
    op.create_index(
        "ix_voice_calls_live",
        "voice_calls",
        ["lease_until"],
        sqlite_where=CALL_LIVE,
        postgresql_where=CALL_LIVE,
    )
    op.create_index(
        "ix_voice_calls_callback_due",
        "voice_calls",
        ["callback_next_at"],
        sqlite_where=CALLBACK_DUE,
        postgresql_where=CALLBACK_DUE,
    )


def downgrade() -> None:
    op.drop_table("voice_calls")
    op.drop_table("voice_files")
    op.drop_table("voice_templates")
    with op.batch_alter_table("applications") as batch:
        for column in (
            "voice_quiet_end",
            "voice_quiet_start",
            "voice_per_day",
            "voice_per_10min",
            "voice_per_30s",
            "voice_callback_url",
        ):
            batch.drop_column(column)
