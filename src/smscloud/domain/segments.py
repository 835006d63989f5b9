"""Message length, billing parts and wire segmentation.

Billing follows Tencent SMS docs: billing FAQ, length and billing
(cloud.tencent.com/document/product/382/18052 for international).

Two different counts live here and must not be mixed up:

* billing: what Tencent charges (`Fee`). Mainland counts characters, 70 in one part and 67 per
  part beyond that, whatever the alphabet. International follows the GSM-7 / UCS-2 wire rules.
* wire: how an SMSC splits the text (`international_segmentation`), used for international
  billing and by the SMPP side for every destination.

Mainland characters are Python code points: an emoji counts 1, as Tencent counts "characters",
while on the wire (UCS-2) an emoji outside the BMP takes two UTF-16 units. Combined sequences
(flags, ZWJ families, variation selectors) therefore count one per code point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from smscloud.domain.errors import RuleViolation

__all__ = [
    "MAX_INTERNATIONAL_CHARS",
    "MAX_MAINLAND_CHARS",
    "Encoding",
    "Segmentation",
    "billed_parts",
    "check_length",
    "gsm7_cost",
    "international_segmentation",
    "mainland_parts",
    "split_parts",
]

CONTENT_LENGTH_LIMIT = "InvalidParameterValue.ContentLengthLimit"

MAX_MAINLAND_CHARS = 500
MAX_INTERNATIONAL_CHARS = 2000

# Mainland billing (Tencent SMS docs: billing FAQ): one part up to 70 characters, otherwise
# 67 per part.
MAINLAND_SINGLE = 70
MAINLAND_MULTI = 67
# Wire limits assume the usual 6-byte concatenation UDH (8-bit reference); a 16-bit reference
# (7 bytes) would leave 152 and 66.
GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

# GSM 03.38 default alphabet (the escape 0x1B itself is not a character) and the extension
# table, whose characters are sent as ESC + char and so cost two septets.
_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = "\f^{}\\[~]|€"
_SEPTETS: dict[str, int] = {ch: 1 for ch in _GSM7_BASIC} | {ch: 2 for ch in _GSM7_EXTENSION}


class Encoding(StrEnum):
    """Wire data coding of an international message."""

    GSM7 = "GSM7"
    UCS2 = "UCS2"


@dataclass(frozen=True, slots=True)
class Segmentation:
    """Encoding, total size in units (septets or UTF-16 units) and number of parts."""

    encoding: Encoding
    units: int
    parts: int


def gsm7_cost(text: str) -> int | None:
    """Septets needed for `text` in GSM-7, or None if any character is outside GSM-7."""
    total = 0
    for ch in text:
        cost = _SEPTETS.get(ch)
        if cost is None:
            return None
        total += cost
    return total


def _unit_costs(text: str) -> tuple[Encoding, list[int]]:
    """Per-character wire cost: septets for GSM-7, UTF-16 code units for UCS-2."""
    septets = [_SEPTETS.get(ch) for ch in text]
    if all(cost is not None for cost in septets):
        return Encoding.GSM7, [cost for cost in septets if cost is not None]
    # Astral characters (emoji) are a surrogate pair: two UTF-16 units.
    return Encoding.UCS2, [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _limits(encoding: Encoding) -> tuple[int, int]:
    if encoding is Encoding.GSM7:
        return GSM7_SINGLE, GSM7_MULTI
    return UCS2_SINGLE, UCS2_MULTI


def _greedy_breaks(costs: list[int], per_part: int) -> list[int]:
    """Start index of each part when filling parts greedily.

    A character is never divided, so an escape pair or surrogate pair that would straddle
    the boundary moves whole into the next part.
    """
    starts = [0]
    used = 0
    for index, cost in enumerate(costs):
        if used + cost > per_part:
            starts.append(index)
            used = 0
        used += cost
    return starts


def international_segmentation(text: str) -> Segmentation:
    """Wire segmentation: GSM-7 160/153 septets, otherwise UCS-2 70/67 UTF-16 units."""
    encoding, costs = _unit_costs(text)
    single, multi = _limits(encoding)
    units = sum(costs)
    parts = 1 if units <= single else len(_greedy_breaks(costs, multi))
    return Segmentation(encoding=encoding, units=units, parts=parts)


def mainland_parts(text: str) -> int:
    """Tencent mainland billing: <=70 characters is 1 part, otherwise ceil(n / 67)."""
    length = len(text)
    if length <= MAINLAND_SINGLE:
        return 1
    return math.ceil(length / MAINLAND_MULTI)


def billed_parts(text: str, *, mainland: bool) -> int:
    """Number of parts Tencent bills (`Fee`) for the full text, signature included."""
    if mainland:
        return mainland_parts(text)
    return international_segmentation(text).parts


def check_length(text: str, *, mainland: bool) -> None:
    """Raise ContentLengthLimit if the rendered message exceeds the per-message cap."""
    limit = MAX_MAINLAND_CHARS if mainland else MAX_INTERNATIONAL_CHARS
    if len(text) > limit:
        region = "mainland China" if mainland else "international"
        raise RuleViolation(
            CONTENT_LENGTH_LIMIT,
            f"the {region} sms content has {len(text)} characters, more than the {limit} allowed",
        )


def split_parts(text: str, *, mainland: bool) -> list[str]:
    """Text of each billed part; joining the list gives back `text` (an empty text is 1 part)."""
    if mainland:
        if len(text) <= MAINLAND_SINGLE:
            return [text]
        return [text[i : i + MAINLAND_MULTI] for i in range(0, len(text), MAINLAND_MULTI)]
    encoding, costs = _unit_costs(text)
    single, multi = _limits(encoding)
    if sum(costs) <= single:
        return [text]
    starts = _greedy_breaks(costs, multi)
    ends = [*starts[1:], len(text)]
    return [text[start:end] for start, end in zip(starts, ends, strict=True)]
