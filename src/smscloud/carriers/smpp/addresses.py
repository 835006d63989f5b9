"""A carrier's address to the handset's number, read by its TON and NPI (pure).

SMPP 3.4 §5.2.5 gives each address a type of number (TON) and §5.2.6 a numbering plan
indicator (NPI). An MO message's ``source_addr`` is the handset, written as the SMSC likes:
``8613800138000`` with TON 1, ``13800138000`` with TON 2, either (or ``+86...``, ``0086...``)
with TON 0. :func:`handset_number` reads them all into E.164, so a reply finds the message it
answers whatever the carrier's habit:

======================  ===============================================================
TON 1 international     the digits are country code + number: ``+digits`` (a stray ``+``
                        or ``00`` in front is dropped)
TON 2 national,         the carrier's country code + the national number, without the
TON 4 subscriber        national trunk prefix (``0...`` where the country dials one)
TON 0 unknown, and      ``+`` or ``00`` in front: international; else a valid national
reserved TONs (7-255)   number of the carrier's country, or one with a trunk prefix ``0``,
                        is national; else international
TON 5 alphanumeric,     not a phone number (a brand, a short code): kept as written
TON 3 network specific,
TON 6 abbreviated
======================  ===============================================================

Only the numbering plans of phone numbers are read: NPI 0 unknown, 1 ISDN (E.163/E.164) and
8 national. An address of another plan (X.121 data, telex, E.212, private, ERMES, internet,
WAP) is kept as written, as is anything that is not digits. A number kept as written matches
no message sent; the reply is stored for the operator to see, not attributed to a tenant.
"""

from __future__ import annotations

import re

from smscloud.domain.phone import national_e164

__all__ = [
    "TON_ABBREVIATED",
    "TON_ALPHANUMERIC",
    "TON_INTERNATIONAL",
    "TON_NATIONAL",
    "TON_NETWORK_SPECIFIC",
    "TON_SUBSCRIBER",
    "TON_UNKNOWN",
    "handset_number",
]

# §5.2.5 addr_ton
TON_UNKNOWN = 0
TON_INTERNATIONAL = 1
TON_NATIONAL = 2
TON_NETWORK_SPECIFIC = 3
TON_SUBSCRIBER = 4
TON_ALPHANUMERIC = 5
TON_ABBREVIATED = 6

# §5.2.6 addr_npi: the plans whose addresses are phone numbers.
_PHONE_PLANS = frozenset({0, 1, 8})  # unknown, ISDN (E.163/E.164), national
_NOT_NUMBERS = frozenset({TON_ALPHANUMERIC, TON_NETWORK_SPECIFIC, TON_ABBREVIATED})
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() takes any script's digits


def handset_number(address: str, ton: int, npi: int, nation_code: str) -> str:
    """E.164 of an SMPP address of type ``ton`` in plan ``npi``, as the table above says;
    ``nation_code`` is the carrier's country (the country its national numbers are in).
    An address that is no phone number comes back as written."""
    if ton in _NOT_NUMBERS or npi not in _PHONE_PLANS:
        return address
    text = address.strip()
    if text.startswith("+"):
        international: str | None = text[1:]
    elif text.startswith("00"):
        international = text[2:]  # the international prefix most countries dial
    else:
        international = None
    digits = international if international is not None else text
    if _DIGITS.fullmatch(digits) is None:
        return address
    if ton == TON_INTERNATIONAL or international is not None:
        return _international(digits, address)
    national = national_e164(digits, nation_code)
    if ton in (TON_NATIONAL, TON_SUBSCRIBER):
        return national[0] if national is not None else address
    # Unknown (or reserved) type: a valid number of the carrier's country is national, and
    # so is one that starts with a trunk prefix 0: no country code starts with 0.
    if national is not None and (national[1] or digits.startswith("0")):
        return national[0]
    return _international(digits, address)


def _international(digits: str, address: str) -> str:
    # A country code never starts with 0 (E.164 §6.2.1): leading zeros are a stray prefix.
    significant = digits.lstrip("0")
    return "+" + significant if significant else address
