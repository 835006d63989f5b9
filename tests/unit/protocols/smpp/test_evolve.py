"""``Pdu.evolve``: a copy with some fields changed, checked exactly as the constructor checks.

The sender builds each submit_sm from a per-carrier template this way, so it must accept what
the constructor accepts, refuse what it refuses, and give the same PDU.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.smpp import SubmitSm
from smscloud.protocols.smpp.base import Pdu, body_fields
from smscloud.protocols.smpp.commands import COMMANDS

from .strategies import pdus, tlv_lists, u

CLASSES = sorted(COMMANDS.values(), key=lambda cls: cls.command_id)
# Values that are wrong for some wire type or other: each must be refused by evolve exactly
# when the constructor refuses it.
ODD = st.one_of(
    st.integers(-2, 2**33),
    st.text(max_size=300),
    st.binary(max_size=300),
    st.none(),
    st.just(("x",)),
    st.just(((0x10000, b""),)),
    st.just(((0x0204, b"\x00\x01\x02"),)),  # user_message_reference is two octets
)


def _built(cls: type[Pdu], values: dict[str, Any]) -> Pdu | type[Exception]:
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        return type(exc)


def _evolved(base: Pdu, changes: dict[str, Any]) -> Pdu | type[Exception]:
    try:
        return base.evolve(**changes)
    except (ValueError, TypeError) as exc:
        return type(exc)


@given(data=st.data(), cls=st.sampled_from(CLASSES))
def test_evolve_gives_what_the_constructor_gives(data: st.DataObject, cls: type[Pdu]) -> None:
    base = data.draw(pdus(cls))
    other = data.draw(pdus(cls))
    names = ["sequence_number", "command_status", "tlvs", *(n for n, _ in body_fields(cls))]
    changed = data.draw(st.lists(st.sampled_from(names), unique=True))
    changes = {n: getattr(other, n) for n in changed}
    assert base.evolve(**changes) == dataclasses.replace(base, **changes)


@given(data=st.data(), cls=st.sampled_from(CLASSES))
def test_evolve_refuses_what_the_constructor_refuses(data: st.DataObject, cls: type[Pdu]) -> None:
    base = data.draw(pdus(cls))
    names = ["sequence_number", "command_status", "tlvs", *(n for n, _ in body_fields(cls))]
    name = data.draw(st.sampled_from(names))
    value = data.draw(ODD)
    values = {n: getattr(base, n) for n in names} | {name: value}
    assert _evolved(base, {name: value}) == _built(cls, values)


@given(tlvs=tlv_lists, seq=u(4))
def test_evolve_leaves_the_template_alone(tlvs: tuple[tuple[int, bytes], ...], seq: int) -> None:
    template = SubmitSm(source_addr="Brand", registered_delivery=1)
    copy = template.evolve(destination_addr="8613800000000", tlvs=tlvs, sequence_number=seq)
    assert (copy.source_addr, copy.registered_delivery) == ("Brand", 1)
    assert (copy.destination_addr, copy.tlvs, copy.sequence_number) == ("8613800000000", tlvs, seq)
    assert template == SubmitSm(source_addr="Brand", registered_delivery=1)


def test_evolve_names_a_field_the_pdu_does_not_have() -> None:
    with pytest.raises(TypeError, match="no field 'message_id'"):
        SubmitSm().evolve(message_id="1")
