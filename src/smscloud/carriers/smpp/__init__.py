"""The SMPP 3.4 carrier connector: ``SmppCarrier`` implements ``carriers.base.Carrier``.

Modules: ``config`` (settings), ``outbound`` (submission to submit_sm), ``inbound``
(deliver_sm to receipts and replies), ``pacing`` (rate and backoff arithmetic), ``bind``
(one asyncio session over the sans-IO core) and ``carrier`` (the pool behind the seam).
"""

from __future__ import annotations

from .bind import NotBoundError
from .carrier import CarrierHealth, SmppCarrier
from .config import BindMode, SmppConfig

__all__ = ["BindMode", "CarrierHealth", "NotBoundError", "SmppCarrier", "SmppConfig"]
