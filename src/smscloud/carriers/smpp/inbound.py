"""deliver_sm to seam objects: receipts (TLVs or Appendix B text) and MO text (pure).

A deliver_sm is a receipt when its esm_class message type says so (§5.2.12: 0x04 SMSC
delivery receipt, 0x08 SME acknowledgement, 0x20 intermediate notification) or when it
carries receipted_message_id (§5.3.2.12); anything else is a mobile-originated message.

Receipt states map to the seam as: DELIVRD -> DELIVERED, UNDELIV -> UNDELIVERED, EXPIRED ->
EXPIRED, REJECTD -> REJECTED, and DELETED, ACCEPTD, UNKNOWN (or anything unrecognised) ->
UNKNOWN; ENROUTE is not final (Table B-2) and is dropped. ``done_at`` is the arrival time:
the receipt's "done date" is in the SMSC's unstated local time.

An MO message's handset is read by the source address's TON/NPI (``addresses``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from smscloud.carriers import base
from smscloud.protocols.smpp import parse_receipt, parse_udh
from smscloud.protocols.smpp.commands import DeliverSm
from smscloud.protocols.smpp.receipt import MessageState, stat_word, state_from_stat
from smscloud.protocols.smpp.udh import ESM_UDHI, Part, join

from .addresses import handset_number

__all__ = ["Reassembler", "is_receipt", "part_of", "receipt_from", "reply_from"]

log = logging.getLogger(__name__)

_RECEIPT_TYPES = 0x04 | 0x08 | 0x20  # esm_class bits 2-5, "message type" (§5.2.12)
_SEAM_STATES = {
    MessageState.DELIVERED: base.DELIVERED,
    MessageState.UNDELIVERABLE: base.UNDELIVERED,
    MessageState.EXPIRED: base.EXPIRED,
    MessageState.REJECTED: base.REJECTED,
}


def is_receipt(pdu: DeliverSm) -> bool:
    return bool(pdu.esm_class & _RECEIPT_TYPES) or pdu.receipted_message_id is not None


def receipt_from(pdu: DeliverSm, now: float) -> base.Receipt | None:
    """The seam Receipt of a receipt deliver_sm; None if unreadable or not final.

    TLVs come first (receipted_message_id, message_state, §5.3.2.12/35); the text fills in
    what they lack, and gives the stat word when it has one.
    """
    text = parse_receipt(pdu.short_message or pdu.message_payload or b"")
    msg_id = pdu.receipted_message_id or (text.id if text else None)
    tlv_state = pdu.delivery_state
    if tlv_state is not None and tlv_state in MessageState.__members__.values():
        state = MessageState(tlv_state)
        code = text.stat if text and text.state is state else stat_word(state)
    elif text is not None:
        state, code = state_from_stat(text.stat), text.stat
    else:
        return None
    if not msg_id or state is MessageState.ENROUTE:
        return None
    seam = _SEAM_STATES.get(state, base.UNKNOWN)
    return base.Receipt(base.canonical_id(msg_id), seam, code, now)


def reply_from(
    pdu: DeliverSm, text: str, received_at: float, *, carrier: str, nation_code: str
) -> base.Reply:
    """The seam Reply of a whole MO message (``text``) whose last part was ``pdu``; the
    handset's number read by TON/NPI with ``nation_code`` as the carrier's country."""
    phone = handset_number(pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi, nation_code)
    return base.Reply(phone, text, received_at, pdu.destination_addr, carrier)


def part_of(pdu: DeliverSm) -> Part:
    """The text-carrying fields of a deliver_sm, as ``udh.join`` takes them."""
    return Part(
        short_message=pdu.short_message,
        data_coding=pdu.data_coding,
        esm_class=pdu.esm_class & ESM_UDHI,
        tlvs=pdu.tlvs,
    )


def _concat(part: Part, sar: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    """(reference, total, seqnum) of a concatenated part: SAR TLVs or a UDH IE 0x00/0x08
    (3GPP TS 23.040 §9.2.3.24.1/.8); None for a whole message."""
    if sar is not None:
        return sar
    if not part.esm_class & ESM_UDHI:
        return None
    for iei, value in parse_udh(part.short_message)[0]:
        if iei == 0x00 and len(value) == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and len(value) == 4:
            return int.from_bytes(value[:2], "big"), value[2], value[3]
    return None


@dataclass(slots=True)
class _Pending:
    started: float
    parts: dict[int, Part] = field(default_factory=dict)


class Reassembler:
    """Joins concatenated MO parts, keyed by source address and reference.

    ``add`` returns the whole text once every part is in (a lone message at once); parts of
    a message still incomplete after ``timeout`` seconds are dropped with a warning.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._pending: dict[tuple[str, str, int, int], _Pending] = {}

    def add(self, pdu: DeliverSm, now: float) -> str | None:
        self.expire(now)
        part = part_of(pdu)
        try:
            info = _concat(part, pdu.sar)
            if info is None:
                return join([part])
            ref, total, seq = info
            if total <= 1:
                return join([part])
            key = (pdu.source_addr, pdu.destination_addr, ref, total)
            pending = self._pending.setdefault(key, _Pending(now))
            pending.parts[seq] = part
            if len(pending.parts) < total:
                return None
            del self._pending[key]
            return join(pending.parts.values())
        except ValueError as exc:
            log.warning("unreadable MO from %s dropped: %s", pdu.source_addr, exc)
            return None

    def expire(self, now: float) -> int:
        late = [k for k, p in self._pending.items() if now - p.started >= self.timeout]
        for key in late:
            got = len(self._pending.pop(key).parts)
            log.warning("MO from %s ref %d: %d of %d parts timed out", key[0], key[2], got, key[3])
        return len(late)

    def __len__(self) -> int:
        return len(self._pending)
