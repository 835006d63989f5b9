"""applications.freq_hour: off unless chosen

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tencent's default policy has no per-hour limit (Tencent SMS docs, frequency limits: once
    # per 30 s for the same content, 10 per natural day). Applications used to be created
    # with 5 per hour, and the console writes every field of the policy back on each save, so
    # a 5 says nothing of a choice: it was the default, and the default is now off.
    op.execute(sa.text("UPDATE applications SET freq_hour = NULL WHERE freq_hour = 5"))


def downgrade() -> None:
    # Which applications had the old default cannot be told apart afterwards: nothing to undo.
    pass
