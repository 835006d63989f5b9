"""GSM 03.38 alphabet, packing and data codings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.smpp.gsm7 import (
    decode_gsm,
    decode_text,
    encode_gsm,
    encode_text,
    is_gsm,
    pack,
    septet_cost,
    unpack,
)

GSM_CHARS = [c for c in map(chr, range(0x2100)) if is_gsm(c)]
gsm_text = st.text(st.sampled_from(GSM_CHARS))


def test_alphabet_positions() -> None:
    # TS 23.038 §6.2.1: a few landmarks and the whole extension table.
    assert encode_gsm("@£$") == b"\x00\x01\x02"
    assert encode_gsm("ÄÖÑÜ§¿äöñüà") == bytes([0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x7B, 0x7C,
                                              0x7D, 0x7E, 0x7F])  # fmt: skip
    assert encode_gsm("€[]{}\\^~|\f") == bytes.fromhex("1b651b3c1b3e1b281b291b2f1b141b3d1b401b0a")
    assert len(GSM_CHARS) == 127 + 10
    assert septet_cost("€") == 2 and septet_cost("a") == 1


@pytest.mark.parametrize("char", ["`", "ç", "á", "中", "\x1b"])
def test_not_gsm(char: str) -> None:
    assert not is_gsm(char)
    with pytest.raises(ValueError):
        encode_gsm("ok" + char)


def test_hellohello_packs_as_in_ts_23_038() -> None:
    assert pack(encode_gsm("hellohello")).hex() == "e8329bfd4697d9ec37"
    assert decode_gsm(unpack(bytes.fromhex("e8329bfd4697d9ec37"))) == "hellohello"


def test_escape_edge_cases() -> None:
    assert decode_gsm(b"\x1b\x41") == "A"  # unassigned extension shows the basic char
    assert decode_gsm(b"a\x1b") == "a"
    assert decode_gsm(b"\x1b\x1b") == " "


@given(gsm_text)
def test_unpacked_round_trip(text: str) -> None:
    assert decode_gsm(encode_gsm(text)) == text


@given(st.binary().map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_pack_round_trip(septets: bytes, fill: int) -> None:
    packed = pack(septets, fill)
    assert len(packed) == (fill + 7 * len(septets) + 7) // 8
    assert unpack(packed, len(septets), fill) == septets


@given(st.text(st.characters(codec="utf-8")))
def test_ucs2_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, 8), 8) == text


@given(st.text(st.characters(max_codepoint=0xFF)))
def test_latin1_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, 3), 3) == text


def test_unsupported_coding() -> None:
    with pytest.raises(ValueError):
        encode_text("x", 4)
    assert decode_text(b"\xe9", 1) == "é"


def test_cr_padding_ts_23_038_6_1_2_3_1() -> None:
    seven = encode_gsm("abcdef@")
    plain = pack(seven)
    assert unpack(plain) == seven + b"\x00"  # the ambiguity CR padding exists to avoid
    padded = pack(seven, cr_pad=True)
    assert len(padded) == len(plain) == 7
    assert unpack(padded, cr_pad=True) == seven
    assert unpack(pack(b"abcdefgh", cr_pad=True), cr_pad=True) == b"abcdefgh"
