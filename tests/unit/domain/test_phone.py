"""Phone-number parsing (Tencent SMS API 3.0, SendSms and DescribePhoneNumberInfo)."""

from __future__ import annotations

import re
import subprocess
import sys

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.domain import phone as phone_module
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import PhoneNumber, describe_phone, mainland_mobile, parse_phone

CN_MOBILE = PhoneNumber("+8613800138000", "86", "13800138000", "CN", "China")


@pytest.mark.parametrize(
    "raw",
    [
        "+8613800138000",
        "13800138000",  # bare mainland mobile, +86 assumed
        "8613800138000",  # "86" + 11 digits
        "008613800138000",  # international "00" prefix
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        " 0086 138-0013-8000 ",
    ],
)
def test_mainland_forms_normalise_to_e164(raw: str) -> None:
    assert parse_phone(raw) == CN_MOBILE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # DescribePhoneNumberInfo's example, and its "+86018501234444" form with a trunk 0 after
        # the country code.
        ("+8618501234444", PhoneNumber("+8618501234444", "86", "18501234444", "CN", "China")),
        ("+86018501234444", PhoneNumber("+8618501234444", "86", "18501234444", "CN", "China")),
        ("+85261234567", PhoneNumber("+85261234567", "852", "61234567", "HK", "Hong Kong")),
        ("+85366123456", PhoneNumber("+85366123456", "853", "66123456", "MO", "Macao")),
        ("+886912345678", PhoneNumber("+886912345678", "886", "912345678", "TW", "Taiwan")),
        ("+60123456789", PhoneNumber("+60123456789", "60", "123456789", "MY", "Malaysia")),
        ("+12025550123", PhoneNumber("+12025550123", "1", "2025550123", "US", "United States")),
        # Italian fixed lines keep their significant leading zero.
        ("+390612345678", PhoneNumber("+390612345678", "39", "0612345678", "IT", "Italy")),
        # Non-geographic numbers have no ISO code; DescribePhoneNumberInfo reports "DEF".
        ("+80012345678", PhoneNumber("+80012345678", "800", "12345678", "DEF", "")),
    ],
)
def test_parse_phone_fields(raw: str, expected: PhoneNumber) -> None:
    assert parse_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "mainland"),
    [
        ("+8613800138000", True),
        ("+85261234567", False),  # Hong Kong is international
        ("+85366123456", False),  # Macao
        ("+886912345678", False),  # Taiwan
        ("+60123456789", False),
    ],
)
def test_mainland_flag(raw: str, mainland: bool) -> None:
    assert parse_phone(raw).mainland is mainland


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "abc",
        "1-800-FLOWERS",  # phonenumbers would read letters as keypad digits
        "+8612345678901",  # right length, not a valid CN number
        "+8610123",  # too short
        "60123456789",  # international numbers need "+" or "00"
        "23800138000",  # 11 digits but not a mainland mobile
        "+86 138 0013 800",
        "+86(138)00138000",
    ],
)
def test_parse_phone_rejects(raw: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        parse_phone(raw)
    assert caught.value.code == "InvalidParameterValue.IncorrectPhoneNumber"


@pytest.mark.parametrize(
    ("raw", "e164", "iso"),
    [
        ("+86018501234444", "+8618501234444", "CN"),
        ("60123456789", "+60123456789", "MY"),  # lenient: "+" may be missing
        ("+8612345678901", "+8612345678901", "CN"),  # possible but not valid: still described
    ],
)
def test_describe_phone_is_lenient(raw: str, e164: str, iso: str) -> None:
    info = describe_phone(raw)
    assert info is not None
    assert (info.e164, info.iso_code) == (e164, iso)


@pytest.mark.parametrize("raw", ["", "abc", "+86123", "+999123456789"])
def test_describe_phone_returns_none_when_unreadable(raw: str) -> None:
    assert describe_phone(raw) is None


def test_parses_are_cached() -> None:
    assert parse_phone("+8613912345678") is parse_phone("+8613912345678")


def _example_mobiles() -> list[tuple[str, str]]:
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if number is not None:  # TA (Tristan da Cunha) has none
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            examples.append((region, e164))
    return examples


def test_every_region_example_mobile_round_trips() -> None:
    examples = _example_mobiles()
    assert len(examples) > 240
    wrong = []
    for region, e164 in examples:
        parsed = parse_phone(e164)
        # Regions sharing a numbering plan (VA/IT, AX/FI, ...) share example numbers.
        iso = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
        if (
            parsed.e164 != e164
            or parsed.e164 != f"+{parsed.nation_code}{parsed.subscriber}"
            or parsed.iso_code != iso
            or not parsed.iso_name
            or parsed.iso_name == parsed.iso_code
        ):
            wrong.append((region, parsed))
    assert wrong == []


@given(
    subscriber=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    prefix=st.sampled_from(["", "86", "+86", "0086", "+86 "]),
    separators=st.lists(st.sampled_from([" ", "-"]), max_size=3),
)
def test_mainland_formatting_does_not_change_result(
    subscriber: str, prefix: str, separators: list[str]
) -> None:
    raw = prefix + subscriber
    for sep in separators:
        raw = raw[:4] + sep + raw[4:]
    if phonenumbers.is_valid_number(phonenumbers.parse("+86" + subscriber)):
        parsed = parse_phone(raw)
        assert (parsed.e164, parsed.subscriber) == ("+86" + subscriber, subscriber)
        assert parsed.mainland
    else:
        with pytest.raises(RuleViolation):
            parse_phone(raw)


def test_region_names_do_not_load_the_geocoder() -> None:
    # Measured: loading the geocoder adds about 100 MB; the region name must not need it.
    # VmHWM is the peak RSS of this process image only; getrusage's ru_maxrss would also
    # count the forked pytest parent before exec.
    code = (
        "import pathlib, sys\n"
        "from smscloud.domain.phone import parse_phone\n"
        "assert parse_phone('+85261234567').iso_name == 'Hong Kong'\n"
        "status = pathlib.Path('/proc/self/status').read_text().split('\\n')\n"
        "peak = next(line.split()[1] for line in status if line.startswith('VmHWM:'))\n"
        "print('phonenumbers.geodata' in sys.modules, int(peak) // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "False"
    assert int(out[1]) < 40  # MB; the geocoder alone pushes this past 100


# -- the mainland fast path must agree with the full parse ----------------------------------
def _slow(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=3000)
@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_fast_mainland_path_agrees_with_phonenumbers(subscriber: str) -> None:
    phone_module._parse_strict.cache_clear()
    fast = phone_module._parse_strict("+86" + subscriber)
    assert (fast.e164 if fast else None) == _slow("+86" + subscriber)


def test_fast_path_prefix_table_agrees_everywhere() -> None:
    # Every 5-digit prefix, with a few suffixes each: the verdict never depends on the rest.
    for head in range(10000, 20000):
        prefix = str(head)
        verdicts = {
            _slow(f"+86{prefix}{tail}") is not None for tail in ("000000", "999999", "508127")
        }
        assert verdicts == {phone_module._mainland_prefix_valid(prefix)}, prefix


def _strict(raw: str) -> PhoneNumber | None:
    try:
        return parse_phone(raw)
    except RuleViolation:
        return None


@settings(max_examples=1500)
@given(
    st.one_of(
        st.tuples(
            st.sampled_from(["", "+86", "0086", "86", "+", "00", "+852", "+86 ", "+860"]),
            st.text("0123456789", min_size=1, max_size=13),
        ).map("".join),
        st.text(max_size=16),
    )
)
def test_mainland_mobile_reads_exactly_what_parse_phone_reads_as_a_mainland_mobile(
    raw: str,
) -> None:
    # The batch path's shortcut must give the full parse's E.164 whenever it answers, never
    # accept what the full parse refuses, and answer for every unseparated mainland mobile.
    phone_module._parse_strict.cache_clear()
    parsed = _strict(raw)
    fast = mainland_mobile(raw)
    if fast is not None:
        assert parsed is not None
        assert (parsed.e164, parsed.nation_code, parsed.iso_code) == (fast, "86", "CN")
    elif parsed is not None and re.fullmatch(r"(?:\+86|0086|86)?1[0-9]{10}", raw):
        raise AssertionError(f"the shortcut missed {raw!r}")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13912345678", "+8613912345678"),
        ("+8613912345678", "+8613912345678"),
        ("008613912345678", "+8613912345678"),
        ("8613912345678", "+8613912345678"),
        ("+86 139 1234 5678", None),  # separated: the full parse reads it
        ("+85261234567", None),  # Hong Kong is international
        ("10012345678", None),  # no mainland mobile range starts 100
        ("1391234567", None),
    ],
)
def test_mainland_mobile_examples(raw: str, e164: str | None) -> None:
    assert mainland_mobile(raw) == e164
