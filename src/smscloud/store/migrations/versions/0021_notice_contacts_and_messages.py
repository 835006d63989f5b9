"""notification contacts (verified by a code, each choosing its notice kinds), the
console's messages, and when a bill's arrears notice went out

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("bills") as batch:
        batch.add_column(sa.Column("overdue_noticed_at", sa.Float(), nullable=True))
    op.create_table(
        "notice_contacts",
        sa.Column("id", Id, nullable=False),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("kinds", sa.String(64), nullable=False),
        sa.Column("verified_at", sa.Float(), nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("code_salt", sa.String(32), nullable=False),
        sa.Column("code_expires_at", sa.Float(), nullable=False),
        sa.Column("code_attempts", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_notice_contacts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_contacts")),
        sa.UniqueConstraint(
            "tenant_id", "channel", "address", name=op.f("uq_notice_contacts_tenant_id")
        ),
    )
    op.create_table(
        "console_messages",
        sa.Column("id", Id, nullable=False),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("read_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_console_messages_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_messages")),
    )
    op.create_index("ix_console_messages_tenant", "console_messages", ["tenant_id", "read_at"])


def downgrade() -> None:
    op.drop_table("console_messages")
    op.drop_table("notice_contacts")
    with op.batch_alter_table("bills") as batch:
        batch.drop_column("overdue_noticed_at")
