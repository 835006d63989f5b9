"""The postpaid price table: rows, lookup, CSV import/export, voice minutes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.billing.prices import (
    SMS_INTL,
    VOICE,
    PriceRow,
    PriceTable,
    PriceTableError,
    parse_csv,
    to_csv,
    voice_minutes,
)

HEADER = "product,iso_code,nation_code,unit_price_yuan\n"

GOOD = (
    HEADER + "voice,US,1,0.15\n"
    "sms_intl,us,1,0.06\n"
    "\n"
    "sms_intl,HK,852,0.045\n"
    " sms_intl , SG , 65 , 0.5 \n"
)


def errors_of(text: str) -> list[str]:
    with pytest.raises(PriceTableError) as info:
        parse_csv(text)
    # The message must carry every error too: it is what an operator sees.
    for error in info.value.errors:
        assert error in str(info.value)
    return info.value.errors


def test_parse_good_file() -> None:
    table = parse_csv(GOOD)
    assert table.rows == (
        PriceRow(SMS_INTL, "HK", "852", 45_000),
        PriceRow(SMS_INTL, "SG", "65", 500_000),
        PriceRow(SMS_INTL, "US", "1", 60_000),
        PriceRow(VOICE, "US", "1", 150_000),
    )
    assert len(table) == 4
    assert list(table) == list(table.rows)


def test_lookup() -> None:
    table = parse_csv(GOOD)
    assert table.lookup(SMS_INTL, "HK") == PriceRow(SMS_INTL, "HK", "852", 45_000)
    assert table.lookup(SMS_INTL, "hk") == PriceRow(SMS_INTL, "HK", "852", 45_000)
    assert table.lookup(VOICE, "US") == PriceRow(VOICE, "US", "1", 150_000)
    assert table.lookup(VOICE, "HK") is None
    assert table.lookup("sms_domestic", "HK") is None


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff" + GOOD,
        GOOD.replace("\n", "\r\n"),
        "\ufeff" + GOOD.replace("\n", "\r\n"),
        GOOD.rstrip("\n"),  # no final line end
        "\n\n" + GOOD + "\n  \n",
        GOOD.replace(HEADER, HEADER.upper()),
    ],
)
def test_parse_tolerates_bom_crlf_and_blank_lines(text: str) -> None:
    assert parse_csv(text) == parse_csv(GOOD)


def test_header_only_is_an_empty_table() -> None:
    assert parse_csv(HEADER) == PriceTable()
    assert len(parse_csv(HEADER)) == 0


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "line 1: missing header"),
        ("\n\r\n", "line 1: missing header"),
        ("sms_intl,HK,852,0.045\n", "line 1: expected header"),
        ("product,iso_code,unit_price_yuan,nation_code\n", "line 1: expected header"),
        ("product,iso_code,nation_code\n", "line 1: expected header"),
        ("\nproduct,iso_code,nation_code,unit_price_yuan,x\n", "line 2: expected header"),
    ],
)
def test_bad_header(text: str, error: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1
    assert errors[0].startswith(error)


def test_every_bad_line_is_reported_at_once() -> None:
    text = (
        HEADER  # line 1
        + "sms_intl,HK,852,0.045\n"  # 2 ok
        "sms_domestic,CN,86,0.03\n"  # 3 unknown product
        "sms_intl,USA,1,0.06\n"  # 4 iso too long
        "sms_intl,U1,1,0.06\n"  # 5 iso not letters
        "sms_intl,,1,0.06\n"  # 6 iso empty
        "sms_intl,DE,+49,0.06\n"  # 7 nation not digits
        "sms_intl,FR,33333,0.06\n"  # 8 nation too long
        "sms_intl,IT,,0.06\n"  # 9 nation empty
        "sms_intl,ES,034,0.06\n"  # 10 leading zero
        "sms_intl,JP,81,-0.06\n"  # 11 negative price
        "sms_intl,KR,82,1e-2\n"  # 12 exponent
        "sms_intl,TW,886,0.0000001\n"  # 13 too many decimals
        "sms_intl,MO,853,\n"  # 14 empty price
        "sms_intl,hk,852,0.05\n"  # 15 duplicate of line 2 after normalising
        "sms_intl,GB,44\n"  # 16 too few fields
        "sms_intl,GB,44,0.05,extra\n"  # 17 too many fields
        "\n"  # 18 blank: skipped
        "voice,XX1,0,abc\n"  # 19 three problems at once
        "voice,HK,852,0.2\n"  # 20 ok: same country, other product
        '"sms_intl","ßx","44","0.05"\n'  # 21 not ASCII
    )
    errors = errors_of(text)
    expected_prefixes = [
        ("line 3: unknown product 'sms_domestic'"),
        ("line 4: iso_code must be 2 letters"),
        ("line 5: iso_code must be 2 letters"),
        ("line 6: iso_code must be 2 letters"),
        ("line 7: nation_code must be 1-4 digits"),
        ("line 8: nation_code must be 1-4 digits"),
        ("line 9: nation_code must be 1-4 digits"),
        ("line 10: nation_code must be 1-4 digits"),
        ("line 11: invalid yuan amount '-0.06'"),
        ("line 12: invalid yuan amount '1e-2'"),
        ("line 13: invalid yuan amount '0.0000001'"),
        ("line 14: invalid yuan amount ''"),
        ("line 15: duplicate price for sms_intl HK (first on line 2)"),
        ("line 16: expected 4 fields, got 3"),
        ("line 17: expected 4 fields, got 5"),
        ("line 19: iso_code must be 2 letters"),
        ("line 19: nation_code must be 1-4 digits"),
        ("line 19: invalid yuan amount 'abc'"),
        ("line 21: iso_code must be 2 letters"),
    ]
    assert len(errors) == len(expected_prefixes), errors
    for error, prefix in zip(errors, expected_prefixes, strict=True):
        assert error.startswith(prefix), (error, prefix)


def test_broken_quoting_is_reported_with_its_line() -> None:
    errors = errors_of(HEADER + "sms_intl,HK,852,0.045\n" + 'sms_intl,"US"x,1,0.06\n')
    assert errors[-1].startswith("line 3: unreadable CSV")


def test_to_csv_text() -> None:
    table = PriceTable(
        [
            PriceRow(VOICE, "US", "1", 150_000),
            PriceRow(SMS_INTL, "HK", "852", 45_000),
            PriceRow(SMS_INTL, "SG", "65", 500_000),
            PriceRow(SMS_INTL, "CN", "86", 12_000_001),
        ]
    )
    assert to_csv(table) == (
        HEADER + "sms_intl,CN,86,12.000001\n"
        "sms_intl,HK,852,0.045\n"
        "sms_intl,SG,65,0.50\n"
        "voice,US,1,0.15\n"
    )


def test_round_trip_of_good_file() -> None:
    table = parse_csv(GOOD)
    assert parse_csv(to_csv(table)) == table


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("sms", "US", "1", 1), "unknown product"),
        ((SMS_INTL, "us", "1", 1), "iso_code"),
        ((SMS_INTL, "US", "01", 1), "nation_code"),
        ((SMS_INTL, "US", "1", -1), "negative"),
    ],
)
def test_price_row_validates(fields: tuple[str, str, str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PriceRow(*fields)


def test_table_rejects_duplicate_rows() -> None:
    with pytest.raises(ValueError, match="duplicate price for voice US"):
        PriceTable([PriceRow(VOICE, "US", "1", 1), PriceRow(VOICE, "US", "1", 2)])


def test_tables_compare_by_rows_not_order() -> None:
    a = PriceRow(VOICE, "US", "1", 1)
    b = PriceRow(SMS_INTL, "US", "1", 1)
    assert PriceTable([a, b]) == PriceTable([b, a])
    assert hash(PriceTable([a, b])) == hash(PriceTable([b, a]))
    assert PriceTable([a]) != PriceTable([b])
    assert PriceTable([a]) != PriceTable([PriceRow(VOICE, "US", "1", 2)])


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (119, 2), (120, 2), (121, 3), (3600, 60)],
)
def test_voice_minutes(seconds: int, minutes: int) -> None:
    assert voice_minutes(seconds) == minutes


def test_voice_minutes_rejects_negative() -> None:
    with pytest.raises(ValueError, match="-1"):
        voice_minutes(-1)


rows = st.builds(
    PriceRow,
    product=st.sampled_from([SMS_INTL, VOICE]),
    iso_code=st.from_regex(r"[A-Z]{2}", fullmatch=True),
    nation_code=st.from_regex(r"[1-9][0-9]{0,3}", fullmatch=True),
    unit_price=st.integers(min_value=0, max_value=10**12),
)
tables = st.lists(rows, max_size=30, unique_by=lambda r: (r.product, r.iso_code)).map(PriceTable)


@given(tables)
def test_csv_round_trip(table: PriceTable) -> None:
    text = to_csv(table)
    assert parse_csv(text) == table
    assert parse_csv("\ufeff" + text.replace("\n", "\r\n")) == table
