"""signatures and templates: when each entered the review queue

A rejected signature or template that the tenant modifies goes back to the queue, but keeps
its ``created_at``; the review page measures the wait against the half-work-day promise
from ``submitted_at`` (set on every application and modification; empty on rows from
before, which waited since their creation).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TABLES = ("signs", "templates")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("submitted_at", sa.Float(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("submitted_at")
