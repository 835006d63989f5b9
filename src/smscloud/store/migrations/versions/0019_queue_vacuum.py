"""PostgreSQL: vacuum and analyse the message tables by the number of rows changed, not a
share of the table

Every message row is updated five times within seconds of its insert (claim, submitted,
receipt, push lease, push done). With the defaults (vacuum after 20% of the table has
changed) the dead entries of the partial queue indexes pile up for minutes on a large table,
and each claim and receipt lookup reads through them: bench/scaling.py measured the database's
CPU per message growing threefold over a 20,000-message run. Storage parameters per table
(PostgreSQL docs, CREATE TABLE: Storage Parameters) make autovacuum take these tables after a
fixed number of changes; how often it looks (``autovacuum_naptime``) is the server's setting,
see docs/scaling.md. SQLite has no vacuum of this kind: nothing to do there.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLES = ("messages", "message_parts", "orphan_receipts", "replies", "voice_pushes")
SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": "10000",
    "autovacuum_vacuum_insert_scale_factor": "0",
    "autovacuum_vacuum_insert_threshold": "10000",
    "autovacuum_analyze_scale_factor": "0",
    "autovacuum_analyze_threshold": "10000",
    "autovacuum_vacuum_cost_delay": "0",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    values = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET ({values})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})")
