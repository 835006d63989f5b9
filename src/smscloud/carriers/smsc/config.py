"""The simulator's one settings object; every knob has a default suited to tests."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_ACCOUNTS", "SmscConfig", "parse_account", "random_account"]

# system_id -> password. §4.1.1: system_id is at most 15 characters, password at most 8.
DEFAULT_ACCOUNTS: Mapping[str, str] = {"smscloud": "password"}
_MAX_SYSTEM_ID, _MAX_PASSWORD = 15, 8  # §4.1.1: C-octet strings of 16 and 9 with the NUL
_ALPHABET = string.ascii_letters + string.digits


def parse_account(text: str) -> tuple[str, str]:
    """``SYSTEM_ID:PASSWORD`` as (system_id, password); ValueError says what is wrong."""
    system_id, colon, password = text.partition(":")
    if not colon or not system_id:
        raise ValueError(f"{text!r}: expected SYSTEM_ID:PASSWORD")
    if len(system_id) > _MAX_SYSTEM_ID or len(password) > _MAX_PASSWORD:
        raise ValueError(
            f"{text!r}: SMPP allows a system_id of at most {_MAX_SYSTEM_ID} characters and a"
            f" password of at most {_MAX_PASSWORD} (SMPP 3.4 §4.1.1)"
        )
    return system_id, password


def random_account() -> tuple[str, str]:
    """A fresh system_id and password, as long as §4.1.1 allows (about 48 bits of password)."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    password = "".join(secrets.choice(_ALPHABET) for _ in range(_MAX_PASSWORD))
    return f"smscloud-{suffix}", password


@dataclass(frozen=True, slots=True, kw_only=True)
class SmscConfig:
    """Settings of one ``SmscSimulator``.

    accounts: system_id -> password; a wrong password gets ESME_RBINDFAIL, an unknown
        system_id ESME_RINVSYSID (§4.1.1, §5.1.3).
    host, port: where to listen; port 0 picks a free port (read ``SmscSimulator.port``).
    system_id: what the SMSC names itself in bind_*_resp (§4.1.2).
    receipt_delay: seconds from submit_sm_resp to the delivery receipt (default 0.05).
    submit_latency: seconds before each submit_sm_resp is sent (default 0).
    throughput: accepted submit_sm per second per bind; the excess gets ESME_RTHROTTLED
        (None: no cap).
    max_binds: bound sessions allowed per system_id; more get ESME_RBINDFAIL.
    window: deliver_sm the SMSC keeps unacknowledged per session (§2.7).
    response_timeout: seconds to wait for a deliver_sm_resp; an unanswered deliver_sm is
        kept and sent again when the system_id next binds.
    retry_delay: seconds before a deliver_sm answered with a temporary error (§5.1.3, such
        as ESME_RX_T_APPN) is sent again.
    first_message_id: the counter behind message ids, written in hex.
    keep_submitted: how many of the latest submits ``SmscSimulator.submitted`` remembers
        (None: every one, as tests read them; a long-running simulator keeps none, or its
        memory grows with every message).
    """

    accounts: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    host: str = "127.0.0.1"
    port: int = 0
    system_id: str = "SMSCSIM"
    receipt_delay: float = 0.05
    submit_latency: float = 0.0
    throughput: int | None = None
    max_binds: int = 4
    window: int = 10
    response_timeout: float = 5.0
    retry_delay: float = 1.0
    first_message_id: int = 1
    keep_submitted: int | None = None
