"""What the simulated network does with a message: pure functions, no I/O.

The magic numbers (``carriers.magic``) decide the outcome from the last seven digits of
destination_addr; this module turns an outcome into the deliver_sm PDUs an SMSC sends: a
delivery receipt (SMPP 3.4 §5.2.12 esm_class, Appendix B text, §5.3.2.12/31/35 TLVs) and
handset replies (mobile originated, split with a concatenation UDH when long).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from smscloud.carriers.magic import MAGIC, REFUSE_SUFFIX, REPLY_SUFFIX, REPLY_TEXT
from smscloud.protocols.smpp import CommandStatus, DeliverSm, SubmitSm, Tag
from smscloud.protocols.smpp.base import body_fields
from smscloud.protocols.smpp.gsm7 import decode_text
from smscloud.protocols.smpp.receipt import Receipt, format_receipt, state_from_stat
from smscloud.protocols.smpp.tlv import encode_tlv
from smscloud.protocols.smpp.udh import ESM_UDHI, Concat, parse_udh, split

__all__ = [
    "ERROR_CODES",
    "ESM_RECEIPT",
    "Outcome",
    "message_text",
    "mo_pdus",
    "outcome_for",
    "receipt_pdu",
    "wants_receipt",
]

ESM_RECEIPT = 0x04  # esm_class bits 2-5 = 0001: SMSC delivery receipt (§5.2.12)
NETWORK_GSM = 3  # network_error_code, first octet: network type GSM (§5.3.2.31)
# stat -> GSM MAP error written in ``err:`` and network_error_code. The values are the
# usual causes: 1 unknown subscriber, 27 absent subscriber, 11 teleservice not provisioned.
ERROR_CODES: dict[str, int] = {"DELIVRD": 0, "UNDELIV": 1, "EXPIRED": 27, "REJECTD": 11}


@dataclass(frozen=True, slots=True)
class Outcome:
    """refuse: command_status for submit_sm_resp (0 accepts); stat: the receipt's stat
    word, None for no receipt ever; reply: what the handset answers, if anything."""

    refuse: int = 0
    stat: str | None = "DELIVRD"
    reply: str | None = None


def outcome_for(destination: str) -> Outcome:
    """The documented magic numbers, matched on the last seven digits."""
    suffix = destination[-7:]
    if suffix == REFUSE_SUFFIX:
        return Outcome(refuse=CommandStatus.ESME_RINVDSTADR, stat=None)
    if suffix == REPLY_SUFFIX:
        return Outcome(reply=REPLY_TEXT)
    if suffix in MAGIC:
        magic = MAGIC[suffix]
        return Outcome(stat=None if magic is None else magic[1])
    return Outcome()


def wants_receipt(submit: SubmitSm, stat: str) -> bool:
    """registered_delivery bits 0-1 (§5.2.17): 01 always, 10 on failure only, 00 never."""
    bits = submit.registered_delivery & 0x03
    return bits == 1 or (bits == 2 and stat != "DELIVRD")


def message_text(pdu: SubmitSm | DeliverSm) -> str:
    """The text of one PDU: message_payload or short_message, UDH removed."""
    data = pdu.message_payload or pdu.short_message
    if pdu.esm_class & ESM_UDHI and pdu.message_payload is None:
        with contextlib.suppress(ValueError):  # a bad UDH: show the raw octets
            _, data = parse_udh(data)
    return decode_text(data, pdu.data_coding)


def _preview(submit: SubmitSm) -> str:
    # Appendix B: "text: the first 20 characters of the short message". The receipt itself
    # travels as data_coding 0, so anything outside ASCII shows as "?".
    text = message_text(submit)[:20]
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def receipt_pdu(
    submit: SubmitSm, message_id: str, stat: str, submitted: datetime, done: datetime
) -> DeliverSm:
    """The deliver_sm carrying the receipt of ``submit``: from the handset to the sender."""
    err = ERROR_CODES.get(stat, 0)
    receipt = Receipt(
        id=message_id,
        stat=stat,
        sub=1,
        dlvrd=1 if stat == "DELIVRD" else 0,
        submit_date=submitted,
        done_date=done,
        err=f"{err:03d}",
        text=_preview(submit),
    )
    text = format_receipt(receipt).encode("ascii")
    tlvs = (
        encode_tlv(Tag.RECEIPTED_MESSAGE_ID, message_id),
        encode_tlv(Tag.MESSAGE_STATE, int(state_from_stat(stat))),
        (Tag.NETWORK_ERROR_CODE, bytes((NETWORK_GSM,)) + err.to_bytes(2, "big")),
    )
    if len(text) > _MAX_SHORT_MESSAGE:  # as the constructor would refuse it
        raise ValueError(f"short_message: at most {_MAX_SHORT_MESSAGE} bytes")
    # The addresses come from a submit_sm, whose fields fit the same wire types, and the rest
    # is ours: only the TLVs are checked (validating every field again was a twentieth of
    # the simulator's work per message).
    values = _RECEIPT_FIELDS | _swapped(submit) | {"short_message": text}
    pdu = DeliverSm.from_wire(0, 0, tlvs, values)
    assert isinstance(pdu, DeliverSm)
    return pdu


def _swapped(submit: SubmitSm) -> dict[str, object]:
    """A receipt's addresses: from the handset (the submit's destination) to the sender."""
    return {
        "source_addr_ton": submit.dest_addr_ton,
        "source_addr_npi": submit.dest_addr_npi,
        "source_addr": submit.destination_addr,
        "dest_addr_ton": submit.source_addr_ton,
        "dest_addr_npi": submit.source_addr_npi,
        "destination_addr": submit.source_addr,
    }


# Every body field of a receipt's deliver_sm that no submit decides, as the constructor sets it.
_RECEIPT_FIELDS: dict[str, object] = {
    name: getattr(DeliverSm(esm_class=ESM_RECEIPT), name) for name, _ in body_fields(DeliverSm)
}
_MAX_SHORT_MESSAGE = dict(body_fields(DeliverSm))["short_message"].size


def mo_pdus(
    source: str,
    destination: str,
    text: str,
    reference: int,
    *,
    dest_ton: int = 1,
    dest_npi: int = 1,
    source_ton: int = 1,
    source_npi: int = 1,
) -> list[DeliverSm]:
    """A handset message as deliver_sm (esm_class 0, or 0x40 with a UDH per part).

    GSM text goes as data_coding 0, anything else as UCS-2 (8); long text is cut into
    parts with an 8-bit concatenation reference (TS 23.040 §9.2.3.24.1). The handset is
    international (TON 1, NPI 1, §5.2.5-6) unless ``source_ton``/``source_npi`` say otherwise,
    as an SMSC that writes national numbers does.
    """
    parts = split(text, method=Concat.UDH8, reference=reference % 256)
    return [
        DeliverSm(
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source,
            dest_addr_ton=dest_ton,
            dest_addr_npi=dest_npi,
            destination_addr=destination,
            esm_class=part.esm_class,
            data_coding=part.data_coding,
            short_message=part.short_message,
            tlvs=part.tlvs,
        )
        for part in parts
    ]
