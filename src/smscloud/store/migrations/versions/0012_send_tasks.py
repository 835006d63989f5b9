"""send_tasks, task_numbers and messages.task_id

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IN_TASK = sa.text("task_id IS NOT NULL")
TASK_PENDING = sa.text("state = 0")
TASK_LIVE = sa.text("state IN ('running', 'suspended')")


def upgrade() -> None:
    op.create_table(
        "send_tasks",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("app_id", ID, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("sign_name", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.BigInteger(), nullable=False),
        sa.Column("sms_type", sa.SmallInteger(), nullable=False),
        sa.Column("international", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("hold_reason", sa.String(length=32), nullable=False),
        sa.Column("rate", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.Float(), nullable=False),
        sa.Column("fed_at", sa.Float(), nullable=False),
        sa.Column("numbers", sa.Integer(), nullable=False),
        sa.Column("parts", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("confirmed_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_send_tasks_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["applications.id"], name=op.f("fk_send_tasks_app_id_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_tasks")),
    )
    with op.batch_alter_table("send_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_send_tasks_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_send_tasks_live",
            ["start_at"],
            unique=False,
            sqlite_where=TASK_LIVE,
            postgresql_where=TASK_LIVE,
        )
    op.create_table(
        "task_numbers",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("raw", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("nation_code", sa.String(length=8), nullable=False),
        sa.Column("iso_code", sa.String(length=8), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(length=96), nullable=False),
        sa.Column("serial_no", sa.String(length=48), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "seq", name=op.f("pk_task_numbers")),
    )
    with op.batch_alter_table("task_numbers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_numbers_waiting",
            ["task_id", "seq"],
            unique=False,
            sqlite_where=TASK_PENDING,
            postgresql_where=TASK_PENDING,
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_messages_task_state",
            ["task_id", "state"],
            unique=False,
            sqlite_where=IN_TASK,
            postgresql_where=IN_TASK,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_task_state")
        batch_op.drop_column("task_id")
    with op.batch_alter_table("task_numbers", schema=None) as batch_op:
        batch_op.drop_index("ix_task_numbers_waiting")
    op.drop_table("task_numbers")
    with op.batch_alter_table("send_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_send_tasks_live")
        batch_op.drop_index(batch_op.f("ix_send_tasks_tenant_id"))
    op.drop_table("send_tasks")
