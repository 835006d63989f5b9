"""Identity numbers and their check characters: ID cards (GB 11643) and credit codes (GB 32100).

An individual account is verified by an 18-character citizen identification number, an
enterprise account by an 18-character unified social credit code; each ends with a check
character computed from the first 17 (ISO 7064 MOD 11-2 for the first, a weighted sum
modulo 31 for the second).
"""

from __future__ import annotations

import re
from datetime import date

TYPES = ("individual", "enterprise")

# -- GB 11643: citizen identification number ---------------------------------------------------
_ID_FORM = re.compile(r"^[0-9]{17}[0-9X]$")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, ...
_ID_CHECK = "10X98765432"


def id_card_check(first17: str) -> str:
    """The check character of 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def valid_id_card(number: str) -> bool:
    """An 18-character mainland ID card number: digits, a real birth date, the checksum."""
    number = number.upper()
    if not _ID_FORM.match(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900:
        return False
    return id_card_check(number[:17]) == number[17]


# -- GB 32100: unified social credit code --------------------------------------------------------
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_USCC_FORM = re.compile(f"^[{USCC_CHARS}]{{18}}$")
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, ...


def uscc_check(first17: str) -> str:
    """The check character of the first 17 characters of a code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def valid_uscc(code: str) -> bool:
    """An 18-character unified social credit code with the right check character."""
    code = code.upper()
    return bool(_USCC_FORM.match(code)) and uscc_check(code[:17]) == code[17]


def valid_number(account_type: str, number: str) -> bool:
    """The number an account of this type is verified by, well formed and checked."""
    return valid_id_card(number) if account_type == "individual" else valid_uscc(number)
