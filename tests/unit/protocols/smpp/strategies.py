"""Hypothesis strategies derived from the PDU table itself, so every PDU type is covered."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from smscloud.protocols.smpp.base import Pdu, body_fields
from smscloud.protocols.smpp.fields import (
    DestAddress,
    DistributionList,
    Kind,
    UnsuccessSme,
    Wire,
)
from smscloud.protocols.smpp.tlv import TLV_TYPES, TlvType, encode_tlv

latin1 = st.characters(min_codepoint=1, max_codepoint=0xFF)


def cstrings(size: int, fixed: bool = False) -> st.SearchStrategy[str]:
    if fixed:
        return st.one_of(st.just(""), st.text(latin1, min_size=size - 1, max_size=size - 1))
    return st.text(latin1, max_size=size - 1)


def u(size: int) -> st.SearchStrategy[int]:
    return st.integers(0, (1 << (8 * size)) - 1)


dest_addresses = st.builds(DestAddress, ton=u(1), npi=u(1), address=cstrings(21))
dist_lists = st.builds(DistributionList, cstrings(21))
unsuccess = st.builds(
    UnsuccessSme, ton=u(1), npi=u(1), address=cstrings(21), error_status_code=u(4)
)


def _value(wire: Wire) -> st.SearchStrategy[Any]:
    if wire.kind in (Kind.INT1, Kind.INT2, Kind.INT4):
        return u(wire.size)
    if wire.kind is Kind.CSTR:
        return cstrings(wire.size, wire.fixed)
    if wire.kind is Kind.SM:
        return st.binary(max_size=wire.size)
    if wire.kind is Kind.DESTS:
        return st.lists(st.one_of(dest_addresses, dist_lists), min_size=1, max_size=5).map(tuple)
    return st.lists(unsuccess, max_size=5).map(tuple)


def _tlv_value(tag: int) -> st.SearchStrategy[tuple[int, bytes]]:
    kind, size = TLV_TYPES[tag]
    if kind in (TlvType.INT1, TlvType.INT2, TlvType.INT4):
        return u(size).map(lambda v: encode_tlv(tag, v))
    if kind is TlvType.CSTR:
        return cstrings(size).map(lambda v: encode_tlv(tag, v))
    return st.binary(max_size=min(size, 300)).map(lambda v: (tag, v))


known_tlvs = st.sampled_from(sorted(TLV_TYPES)).flatmap(_tlv_value)
vendor_tlvs = st.tuples(st.integers(0x1400, 0x3FFF), st.binary(max_size=40))
tlv_lists = st.lists(st.one_of(known_tlvs, vendor_tlvs), max_size=4).map(tuple)


def pdus(cls: type[Pdu]) -> st.SearchStrategy[Pdu]:
    fields = {name: _value(wire) for name, wire in body_fields(cls)}
    return st.builds(cls, sequence_number=u(4), command_status=u(4), tlvs=tlv_lists, **fields)
