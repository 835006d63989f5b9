"""Settings of one SMPP carrier: where to bind, how many sessions, how fast, how to encode.

Every knob has a default that suits a typical carrier; only ``system_id`` is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from smscloud.domain.phone import is_calling_code
from smscloud.protocols.smpp import Concat

__all__ = ["BindMode", "SmppConfig"]


class BindMode(Enum):
    """How each session reaches the SMSC (SMPP 3.4 §2.2)."""

    TRANSCEIVER = "transceiver"  # one bind_transceiver carries submits and deliveries
    PAIR = "pair"  # a bind_transmitter for submits plus a bind_receiver for deliveries


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppConfig:
    """One SMPP carrier account. Times are seconds; ``rate`` is submit_sm PDUs per second."""

    system_id: str
    host: str = "127.0.0.1"
    port: int = 2775
    password: str = ""
    system_type: str = ""
    bind_mode: BindMode = BindMode.TRANSCEIVER
    binds: int = 1  # sessions; in PAIR mode each session is a transmitter and a receiver
    window: int = 10  # outstanding submit_sm per bind
    rate: float = 0.0  # token bucket shared by the carrier's binds; 0 means no limit
    burst: int = 0  # bucket size; 0 means one second's worth of ``rate``
    enquire_interval: float = 30.0  # enquire_link after this much silence (§4.11)
    response_timeout: float = 10.0  # a request with no response by then failed
    connect_timeout: float = 5.0
    bind_wait: float = 2.0  # how long submit waits for a bound session before giving up
    unbind_timeout: float = 2.0  # stop() waits this long for unbind_resp
    reconnect_min: float = 0.5  # first reconnect delay; doubles per failure, with jitter
    reconnect_max: float = 30.0
    throttle_pause: float = 0.5  # a bind told ESME_RTHROTTLED/RMSGQFUL rests this long
    throttle_retries: int = 3  # throttled tries of one part before a temporary failure
    service_type: str = ""
    source_addr: str = ""  # used when a Submission has no sender_id
    source_ton: int = 1  # international, for numeric sources; alphanumeric ones get 5
    source_npi: int = 1  # E.164
    dest_ton: int = 1
    dest_npi: int = 1
    registered_delivery: int = 1  # ask for a final receipt (§5.2.17)
    long_method: Concat = Concat.UDH8
    mo_part_timeout: float = 300.0  # incomplete concatenated MO parts are dropped after this
    # The carrier's country calling code: the country of the national numbers it sends
    # (source_addr_ton 2, §5.2.5). Default: mainland China, the platform's home.
    nation_code: str = "86"

    def __post_init__(self) -> None:
        if self.binds < 1 or self.window < 1:
            raise ValueError("binds and window must be at least 1")
        if self.long_method is Concat.UDH16:
            raise ValueError("UDH16 is not offered: carriers expect UDH8, SAR or payload")
        if not isinstance(self.nation_code, str) or not is_calling_code(self.nation_code):
            raise ValueError(f"nation_code {self.nation_code!r} is not a country calling code")
