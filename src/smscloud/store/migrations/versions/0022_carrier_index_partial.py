"""messages: the carrier id index holds submitted messages only

``ix_messages_carrier_id`` (carrier, carrier_msg_id) finds the message a receipt names. A
message has no carrier id until its carrier answers submit_sm, so every accepted message
added an entry ('', NULL) that its submission then replaced: part of every acceptance's
cost and nothing a lookup can use. The index now keeps rows with a carrier id alone
(``carrier_msg_id IS NOT NULL``); the receipt lookups (``carrier_msg_id = ?`` and
``IN (...)``) imply that condition, so SQLite and PostgreSQL still use it.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

SUBMITTED = sa.text("carrier_msg_id IS NOT NULL")


# Plain statements, not a batch: SQLite drops and creates an index in place, and a batch
# could copy the whole message table to do it.
def upgrade() -> None:
    op.drop_index("ix_messages_carrier_id", table_name="messages")
    op.create_index(
        "ix_messages_carrier_id",
        "messages",
        ["carrier", "carrier_msg_id"],
        unique=False,
        sqlite_where=SUBMITTED,
        postgresql_where=SUBMITTED,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_carrier_id", table_name="messages")
    op.create_index("ix_messages_carrier_id", "messages", ["carrier", "carrier_msg_id"])
