"""ledger, package sources

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
    with op.batch_alter_table("packages") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=32), nullable=False, server_default="")
        )
    op.create_index(
        "uq_packages_source",
        "packages",
        ["tenant_id", "source"],
        unique=True,
        sqlite_where=sa.text("source != ''"),
        postgresql_where=sa.text("source != ''"),
    )
    op.create_table(
        "ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "package_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ledger_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name=op.f("fk_ledger_package_id_packages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
    )
    op.create_index(op.f("ix_ledger_tenant_id"), "ledger", ["tenant_id"])
    op.create_index(op.f("ix_ledger_package_id"), "ledger", ["package_id"])
    # Packages granted before the ledger existed: their grant, and what they used so far.
    op.execute(
        "INSERT INTO ledger (tenant_id, kind, package_id, units, amount, note, created_at)"
        " SELECT tenant_id, 'grant', id, amount, 0, 'before the ledger', created_at FROM packages"
    )
    op.execute(
        "INSERT INTO ledger (tenant_id, kind, package_id, units, amount, note, created_at)"
        " SELECT tenant_id, 'debit', id, -used, 0, 'before the ledger', created_at FROM packages"
        " WHERE used > 0"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_package_id"), table_name="ledger")
    op.drop_index(op.f("ix_ledger_tenant_id"), table_name="ledger")
    op.drop_table("ledger")
    op.drop_index("uq_packages_source", table_name="packages")
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("source")
