"""Long-message split and join; UDH parsing (TS 23.040 §9.2.3.24)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.protocols.smpp import (
    Concat,
    Part,
    SubmitSm,
    Tag,
    decode,
    encode,
    join,
    parse_udh,
    split,
)
from smscloud.protocols.smpp.gsm7 import is_gsm
from smscloud.protocols.smpp.udh import ESM_UDHI

from .test_gsm7 import GSM_CHARS

gsm_text = st.text(st.sampled_from(GSM_CHARS), max_size=700)
any_text = st.text(st.characters(codec="utf-8"), max_size=400)


def _septets(part: Part) -> int:
    """Octets after the UDH (septets for unpacked GSM)."""
    body = part.short_message
    return len(body) - (1 + body[0] if part.esm_class & ESM_UDHI else 0)


def test_single_part_limits() -> None:
    assert len(split("a" * 160)) == 1
    assert len(split("a" * 161)) == 2
    assert len(split("€" * 80)) == 1
    assert len(split("中" * 70)) == 1
    assert len(split("中" * 71)) == 2
    assert [len(p.short_message) for p in split("a" * 161)] == [159, 14]


def test_udh8_bytes() -> None:
    parts = split("a" * 200, reference=0x42)
    assert [p.short_message[:6] for p in parts] == [
        bytes.fromhex("0500034202 01".replace(" ", "")),
        bytes.fromhex("050003420202"),
    ]
    assert all(p.esm_class == ESM_UDHI and p.data_coding == 0 for p in parts)


def test_udh16_and_escape_boundary() -> None:
    text = "a" * 151 + "€" + "b" * 20  # the escape pair would straddle 152 septets
    parts = split(text, method=Concat.UDH16, reference=0x1234)
    assert parts[0].short_message[:7] == bytes.fromhex("06080412340201")
    assert _septets(parts[0]) == 151
    assert join(reversed(parts)) == text


def test_sar_and_payload() -> None:
    parts = split("中" * 100, method=Concat.SAR, reference=7)
    assert [len(p.short_message) for p in parts] == [140, 60]
    assert parts[1].tlvs == ((0x020C, b"\x00\x07"), (0x020E, b"\x02"), (0x020F, b"\x02"))
    assert join(parts) == "中" * 100
    (one,) = split("中" * 100, method=Concat.PAYLOAD)
    assert one.short_message == b"" and one.tlvs[0][0] == Tag.MESSAGE_PAYLOAD
    assert join([one]) == "中" * 100


def test_surrogates_never_split() -> None:
    text = "xx" + "😀" * 40  # 4 + 32 * 4 = 132 octets; a 33rd emoji would cross 134
    parts = split(text)
    assert [_septets(p) for p in parts] == [132, 32]
    assert join(parts) == text


def test_parts_fit_a_pdu() -> None:
    for part in split("中" * 300):
        pdu = SubmitSm(
            esm_class=part.esm_class, data_coding=part.data_coding, short_message=part.short_message
        )
        assert decode(encode(pdu)) == pdu


def test_parse_udh_errors() -> None:
    assert parse_udh(b"\x05\x00\x03\x01\x02\x01hi") == (((0, b"\x01\x02\x01"),), b"hi")
    for bad in (b"", b"\x05\x00\x03", b"\x02\x00\x03\x01"):
        with pytest.raises(ValueError):
            parse_udh(bad)


def test_join_errors() -> None:
    parts = split("a" * 400)
    with pytest.raises(ValueError):
        join(parts[:-1])
    with pytest.raises(ValueError):
        join([*parts, parts[0]])
    with pytest.raises(ValueError):
        join([*parts, Part(short_message=b"x", data_coding=0)])
    with pytest.raises(ValueError):
        join([parts[0], *split("b" * 400, reference=9)[1:]])
    with pytest.raises(ValueError):
        split("a" * 200, reference=256)
    with pytest.raises(ValueError):
        split("a" * 153 * 256)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(gsm_text, any_text),
    st.sampled_from(list(Concat)),
    st.booleans(),
)
def test_split_join_round_trip(text: str, method: Concat, packed: bool) -> None:
    if packed and text.endswith("\r"):
        text += "."  # a final <CR> may be read as TS 23.038 padding (see join)
    parts = split(text, method=method, reference=1, packed=packed)
    assert join(parts, packed=packed) == text
    for part in parts:
        udh = 1 + part.short_message[0] if part.esm_class & ESM_UDHI else 0
        if part.data_coding == 0 and not packed:
            # Septets are sent one per octet; on the air they pack after the UDH.
            bits = udh * 8 + (7 - udh * 8 % 7) % 7 + 7 * (len(part.short_message) - udh)
            fits = bits <= 140 * 8
        else:
            fits = len(part.short_message) <= 140
        assert fits or method is Concat.PAYLOAD
    assert (parts[0].data_coding == 0) == is_gsm(text)
