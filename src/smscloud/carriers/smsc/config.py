"""The simulator's one settings object; every knob has a default suited to tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_ACCOUNTS", "SmscConfig"]

# system_id -> password. §4.1.1: system_id is at most 15 characters, password at most 8.
DEFAULT_ACCOUNTS: Mapping[str, str] = {"smscloud": "password"}


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
    first_message_id: the counter behind message ids, written in hex.
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
    first_message_id: int = 1
