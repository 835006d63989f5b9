"""Length, billing and segmentation rules (Tencent SMS docs: billing FAQ; GSM 03.38, UCS-2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.errors import RuleViolation
from smscloud.domain.segments import (
    MAX_INTERNATIONAL_CHARS,
    MAX_MAINLAND_CHARS,
    Encoding,
    Segmentation,
    billed_parts,
    check_length,
    gsm7_cost,
    international_segmentation,
    mainland_parts,
    split_parts,
)

GSM_BASIC_SPECIALS = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà"
GSM_EXTENDED = "|^€{}[]~\\\f"
EMOJI = "😀"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abc", 3),
        (GSM_BASIC_SPECIALS, len(GSM_BASIC_SPECIALS)),
        # Tencent international billing: | ^ € { } [ ] ~ \ count 2 (escape + character).
        (GSM_EXTENDED, 2 * len(GSM_EXTENDED)),
        ("€" * 80, 160),
        ("Price: 5€", 10),
        ("中", None),
        ("á", None),  # not in the GSM alphabet (only à is)
        ("`", None),  # backtick is not GSM
        ("ç", None),  # only upper-case Ç is in the basic table
        ("\x1b", None),  # the escape code itself is not a character
        (EMOJI, None),
    ],
)
def test_gsm7_cost(text: str, expected: int | None) -> None:
    assert gsm7_cost(text) == expected


@pytest.mark.parametrize(
    ("length", "parts", "sizes"),
    [
        # Tencent SMS docs, billing FAQ: "> 70 ⇒ ceil(len/67) parts, e.g. 150 ⇒ 67+67+16 = 3".
        (150, 3, [67, 67, 16]),
        (70, 1, [70]),
        (71, 2, [67, 4]),
        (134, 2, [67, 67]),
        (135, 3, [67, 67, 1]),
        (1, 1, [1]),
        (500, 8, [67] * 7 + [31]),
    ],
)
def test_mainland_parts_count_characters(length: int, parts: int, sizes: list[int]) -> None:
    for char in ("a", "中"):
        text = char * length
        assert mainland_parts(text) == parts
        assert billed_parts(text, mainland=True) == parts
        assert [len(part) for part in split_parts(text, mainland=True)] == sizes


def test_mainland_signature_counts_toward_length() -> None:
    # Billing FAQ: signature with 【】 + body ≤ 70 ⇒ 1; the 5 characters of 【腾讯云】 count.
    body = "您" * 65
    assert mainland_parts("【腾讯云】" + body) == 1
    assert mainland_parts("【腾讯云】" + body + "。") == 2


@pytest.mark.parametrize(("count", "parts"), [(35, 1), (36, 1), (70, 1), (71, 2)])
def test_mainland_counts_emoji_as_one_character(count: int, parts: int) -> None:
    # Decision: Tencent bills mainland by characters, so an astral emoji counts 1 (not 2 as
    # on the UCS-2 wire).
    assert mainland_parts(EMOJI * count) == parts


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("a" * 320, Encoding.GSM7, 320, 3),
        # Extended characters count 2: 80 x € is 160 septets, one part; 81 is two.
        ("€" * 80, Encoding.GSM7, 160, 1),
        ("€" * 81, Encoding.GSM7, 162, 2),
        # Escape pair on the 153 boundary: 152 + € cannot share part 1.
        ("a" * 152 + "€" + "a" * 8, Encoding.GSM7, 162, 2),
        ("a" * 152 + "€" + "a" * 152, Encoding.GSM7, 306, 3),
        ("a" * 151 + "€" + "a" * 153, Encoding.GSM7, 306, 2),
        ("中" * 70, Encoding.UCS2, 70, 1),
        ("中" * 71, Encoding.UCS2, 71, 2),
        ("中" * 134, Encoding.UCS2, 134, 2),
        ("中" * 135, Encoding.UCS2, 135, 3),
        # One non-GSM character switches the whole message to UCS-2.
        ("a" * 69 + "á", Encoding.UCS2, 70, 1),
        ("a" * 70 + "`", Encoding.UCS2, 71, 2),
        ("a" * 70 + "ç", Encoding.UCS2, 71, 2),
        # Emoji are surrogate pairs: 35 fit in 70 units, 36 do not; 33 per 67-unit part.
        (EMOJI * 35, Encoding.UCS2, 70, 1),
        (EMOJI * 36, Encoding.UCS2, 72, 2),
        (EMOJI * 67, Encoding.UCS2, 134, 3),
        ("", Encoding.GSM7, 0, 1),
    ],
)
def test_international_segmentation(text: str, encoding: Encoding, units: int, parts: int) -> None:
    assert international_segmentation(text) == Segmentation(encoding, units, parts)
    assert billed_parts(text, mainland=False) == parts
    assert len(split_parts(text, mainland=False)) == parts


def test_international_320_gsm_splits_153_153_14() -> None:
    assert [len(p) for p in split_parts("a" * 320, mainland=False)] == [153, 153, 14]


def test_escape_pair_is_never_split_at_153() -> None:
    text = "a" * 152 + "€" + "b" * 8
    first, second = split_parts(text, mainland=False)
    assert first == "a" * 152
    assert second == "€" + "b" * 8


def test_surrogate_pair_is_never_split_at_67() -> None:
    text = "中" * 66 + EMOJI + "中" * 10
    first, second = split_parts(text, mainland=False)
    assert first == "中" * 66
    assert second.startswith(EMOJI)


@pytest.mark.parametrize(
    ("mainland", "limit"), [(True, MAX_MAINLAND_CHARS), (False, MAX_INTERNATIONAL_CHARS)]
)
def test_check_length(mainland: bool, limit: int) -> None:
    assert (MAX_MAINLAND_CHARS, MAX_INTERNATIONAL_CHARS) == (500, 2000)
    check_length("中" * limit, mainland=mainland)
    with pytest.raises(RuleViolation) as caught:
        check_length("中" * (limit + 1), mainland=mainland)
    assert caught.value.code == "InvalidParameterValue.ContentLengthLimit"
    assert str(limit) in caught.value.message


# Mix GSM, extended, CJK and astral characters so all code paths are exercised.
# GSM-only texts are drawn separately, or a single non-GSM character would almost always
# turn long texts into UCS-2.
message_text = st.one_of(
    st.lists(st.sampled_from([*"aZ9 @£\n€^{}|"]), max_size=400).map("".join),
    st.lists(st.sampled_from([*"aZ9 @£\n€^{}|", "中", "文", "á", EMOJI, "👍🏽"]), max_size=300).map(
        "".join
    ),
)


@given(text=message_text, mainland=st.booleans())
def test_split_parts_joins_back_and_matches_billing(text: str, mainland: bool) -> None:
    parts = split_parts(text, mainland=mainland)
    assert "".join(parts) == text
    assert len(parts) == billed_parts(text, mainland=mainland)


@given(text=message_text)
def test_each_part_fits_its_limit(text: str) -> None:
    mainland = split_parts(text, mainland=True)
    if len(mainland) > 1:
        assert all(0 < len(part) <= 67 for part in mainland)
    seg = international_segmentation(text)
    wire = split_parts(text, mainland=False)
    if seg.encoding is Encoding.GSM7:
        costs = [gsm7_cost(part) for part in wire]
        limit = 160 if seg.parts == 1 else 153
    else:
        costs = [len(part.encode("utf-16-le")) // 2 for part in wire]
        limit = 70 if seg.parts == 1 else 67
    assert all(cost is not None and cost <= limit for cost in costs)
    assert sum(cost or 0 for cost in costs) == seg.units


@given(text=message_text, cut=st.integers(min_value=0, max_value=400))
def test_parts_are_monotone_in_length(text: str, cut: int) -> None:
    prefix = text[:cut]
    for mainland in (True, False):
        assert billed_parts(prefix, mainland=mainland) <= billed_parts(text, mainland=mainland)


@given(text=st.text(max_size=300))
def test_any_text_segments_consistently(text: str) -> None:
    seg = international_segmentation(text)
    assert (seg.encoding is Encoding.GSM7) == (gsm7_cost(text) is not None)
    assert "".join(split_parts(text, mainland=False)) == text
