"""The documented magic numbers of the built-in carriers (see README, "The sandbox carrier").

Keyed by the last seven digits of the national number. Shared by the in-process sandbox and
the SMPP SMSC simulator so both fail the same numbers the same way.
"""

from __future__ import annotations

from smscloud.carriers.base import EXPIRED, REJECTED, UNDELIVERED
from smscloud.domain.message_states import MessageState

# suffix -> (final state, receipt stat) or None for "no receipt ever".
MAGIC: dict[str, tuple[MessageState, str] | None] = {
    "0000001": (UNDELIVERED, "UNDELIV"),
    "0000002": (EXPIRED, "EXPIRED"),
    "0000004": None,
    "0000005": (REJECTED, "REJECTD"),
}
REFUSE_SUFFIX = "0000003"
REPLY_SUFFIX = "0000007"
REPLY_TEXT = "收到"
