"""Phone-number parsing and normalisation.

Accepted forms follow Tencent SMS API 3.0, SendSms (PhoneNumberSet); the reported shape follows
DescribePhoneNumberInfo (PhoneNumberInfo).
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from smscloud.domain.errors import RuleViolation

__all__ = [
    "PhoneNumber",
    "describe_phone",
    "is_calling_code",
    "mainland_mobile",
    "national_e164",
    "parse_phone",
]

INCORRECT_PHONE_NUMBER = "InvalidParameterValue.IncorrectPhoneNumber"

# DescribePhoneNumberInfo reports "DEF" when a number has no geographic region
# (Tencent SMS API 3.0, DescribePhoneNumberInfo: IsoCode).
UNKNOWN_ISO_CODE = "DEF"

_SEPARATORS = re.compile(r"[\s\-]+")
_DIGITS = re.compile(r"\+?[0-9]+")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_CALLING_CODE = re.compile(r"[1-9][0-9]{0,2}")  # ITU-T E.164: 1 to 3 digits, never 0 first
_BARE_MAINLAND_MOBILE = re.compile(r"1[0-9]{10}")
# The bulk of traffic: a mainland mobile in one of the forms SendSms accepts.
_FAST_MAINLAND = re.compile(r"(?:\+86|0086|86)?(1[0-9]{10})")
_PREFIXED_MAINLAND_MOBILE = re.compile(r"861[0-9]{10}")

# Used only if phonenumbers' locale table cannot be loaded, and for the three regions that
# table lacks.
_FALLBACK_NAMES = {
    "AC": "Ascension Island",
    "CN": "China",
    "HK": "Hong Kong",
    "MO": "Macao",
    "TA": "Tristan da Cunha",
    "TW": "Taiwan",
    "XK": "Kosovo",
}


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A parsed, validated number in the shape Tencent reports it (DescribePhoneNumberInfo)."""

    e164: str
    nation_code: str
    subscriber: str
    iso_code: str
    iso_name: str

    @property
    def mainland(self) -> bool:
        """True for mainland China (+86); HK, Macao and Taiwan count as international."""
        return self.nation_code == "86"


def parse_phone(raw: str) -> PhoneNumber:
    """Parse a SendSms-style number strictly, or raise IncorrectPhoneNumber."""
    number = _parse_strict(raw)
    if number is None:
        raise RuleViolation(INCORRECT_PHONE_NUMBER, f"incorrect phone number format: {raw!r}")
    return number


def mainland_mobile(raw: str) -> str | None:
    """The E.164 form of ``raw`` if it is a valid mainland mobile written as SendSms allows
    ("13912345678", "+8613912345678", "008613912345678", "8613912345678"), else None.

    The bulk of traffic, answered without building a :class:`PhoneNumber` or filling the parse
    cache with numbers a batch sends once; ``parse_phone`` reads every other form.
    """
    fast = _FAST_MAINLAND.fullmatch(raw)
    if fast is None:
        return None
    subscriber = fast.group(1)
    return "+86" + subscriber if _mainland_prefix_valid(subscriber[:5]) else None


def describe_phone(raw: str) -> PhoneNumber | None:
    """Parse leniently for DescribePhoneNumberInfo; None when nothing sensible can be read."""
    return _parse_lenient(raw)


@functools.lru_cache(maxsize=65536)
def _parse_strict(raw: str) -> PhoneNumber | None:
    if _FAST_MAINLAND.fullmatch(raw) is not None:
        e164 = mainland_mobile(raw)
        if e164 is None:
            return None
        return PhoneNumber(e164, "86", e164[3:], "CN", _region_name("CN"))
    text = _normalise(raw)
    if text is None:
        return None
    if not text.startswith("+"):
        # Without "+" only mainland mobiles are accepted, as SendSms does for +86.
        if _BARE_MAINLAND_MOBILE.fullmatch(text):
            text = "+86" + text
        elif _PREFIXED_MAINLAND_MOBILE.fullmatch(text):
            text = "+" + text
        else:
            return None
    parsed = _phonenumbers_parse(text)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return None
    return _build(parsed)


@functools.lru_cache(maxsize=65536)
def _parse_lenient(raw: str) -> PhoneNumber | None:
    strict = _parse_strict(raw)
    if strict is not None:
        return strict
    text = _normalise(raw)
    if text is None:
        return None
    parsed = _phonenumbers_parse(text if text.startswith("+") else "+" + text)
    # Lenient: a plausible length for the country is enough; full validity is not needed.
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return None
    return _build(parsed)


def is_calling_code(code: str) -> bool:
    """Whether ``code`` (digits, such as "86") is a country calling code in use (ITU-T E.164)."""
    return _CALLING_CODE.fullmatch(code) is not None and (
        int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    )


def national_e164(number: str, nation_code: str) -> tuple[str, bool] | None:
    """``number`` (digits) read as a national number of the country ``nation_code``.

    Returns (E.164, whether the number is valid there), or None when it cannot be read.
    The country's national trunk prefix goes, as phonenumbers knows it (the 0 of British
    and Chinese landline numbers), and a number that already starts with the calling code
    keeps it once ("8613800138000" in China is +8613800138000).
    """
    if _ASCII_DIGITS.fullmatch(number) is None or not is_calling_code(nation_code):
        return None
    # Calling codes shared by several regions (1, 7, 44...) dial the same way in all of
    # them, so the main region's rules read any of their numbers.
    region = phonenumbers.region_code_for_country_code(int(nation_code))
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, bool(phonenumbers.is_valid_number(parsed))


@functools.cache
def _mainland_prefix_valid(prefix: str) -> bool:
    """Whether 11-digit +86 numbers starting with ``prefix`` (5 digits) are valid.

    In phonenumbers' metadata the validity of an 11-digit mainland number beginning with 1
    depends on its first five digits only (e.g. ``1740[0-5]``, ``1(?:[38]\\d|4[57]|...)``),
    so one full check per prefix answers for every number under it; a property test holds
    this against the full parse. This makes the common case ~20x cheaper.
    """
    parsed = _phonenumbers_parse("+86" + prefix + "000000")
    return parsed is not None and bool(phonenumbers.is_valid_number(parsed))


def _normalise(raw: str) -> str | None:
    """Strip separators, turn a "00" international prefix into "+"; None if not digits."""
    text = _SEPARATORS.sub("", raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    # phonenumbers would map letters to keypad digits; a real SMS number has none.
    if not _DIGITS.fullmatch(text):
        return None
    return text


def _phonenumbers_parse(text: str) -> phonenumbers.PhoneNumber | None:
    # phonenumbers already drops a national trunk "0" written after the country code
    # ("+86018501234444"), which Tencent SMS API 3.0, DescribePhoneNumberInfo tolerates;
    # Italian numbers keep their significant leading zero.
    try:
        return phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None


def _build(parsed: phonenumbers.PhoneNumber) -> PhoneNumber:
    country_code = parsed.country_code or 0
    region = phonenumbers.region_code_for_number(parsed)
    if region is None:
        region = phonenumbers.region_code_for_country_code(country_code)
    # "001" (non-geographic, e.g. +800) and "ZZ" (unknown) have no ISO 3166 code.
    iso = region if region and region.isalpha() and region != "ZZ" else UNKNOWN_ISO_CODE
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        nation_code=str(country_code),
        subscriber=phonenumbers.national_significant_number(parsed),
        iso_code=iso,
        iso_name=_region_name(iso),
    )


def _region_name(iso: str) -> str:
    if iso == UNKNOWN_ISO_CODE:
        return ""
    return _english_region_names().get(iso) or _FALLBACK_NAMES.get(iso, iso)


@functools.cache
def _english_region_names() -> dict[str, str]:
    """English region names from phonenumbers' locale table, loaded once.

    Importing `phonenumbers.geodata.locale` normally runs the geodata package's __init__,
    which loads the whole geocoder (measured: the process grows by about 100 MB). Executing
    just the locale module keeps the cost to about 3 MB.
    """
    origin = Path(phonenumbers.__file__).parent / "geodata" / "locale.py"
    spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", origin)
    if spec is None or spec.loader is None:
        return {}
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (OSError, ImportError, SyntaxError):
        return {}
    table: dict[str, dict[str, str]] = getattr(module, "LOCALE_DATA", {})
    names: dict[str, str] = {}
    for iso, by_language in table.items():
        name = by_language.get("en") or by_language.get("aa") or ""
        # Entries such as "*aa" point at another language's entry in the same row.
        for _ in range(4):
            if not name.startswith("*"):
                break
            name = by_language.get(name[1:], "")
        if name and not name.startswith("*"):
            names[iso] = name
    return names
