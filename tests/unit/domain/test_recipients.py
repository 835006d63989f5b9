"""Recipient lists uploaded for bulk tasks: CSV or XLSX, judged by content, limits enforced."""

from __future__ import annotations

import contextlib
import csv
import io
import pickle
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from smscloud.domain import recipients
from smscloud.domain.recipients import (
    MAX_BYTES,
    MAX_CELLS,
    Row,
    UploadRefused,
    read_recipients,
)

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def xlsx(*sheets: list[list[object]]) -> bytes:
    """A real workbook, one worksheet per list of rows, the first one first."""
    workbook = Workbook()
    for index, rows in enumerate(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet(f"Sheet{index + 1}")
        assert sheet is not None
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


def rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    """The same zip with some entries' contents replaced or added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            target.writestr(name, change.pop(name) if name in change else source.read(name))
        for name, content in change.items():
            target.writestr(name, content)
    return out.getvalue()


def refused(filename: str, data: bytes) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        read_recipients(filename, data)
    return caught.value


def cells(rows: list[Row]) -> list[tuple[str, ...]]:
    return [row.cells for row in rows]


# The error type


def test_refusal_carries_key_and_detail_and_pickles() -> None:
    error = UploadRefused("too_many_rows", "more than 3 rows")
    assert isinstance(error, ValueError)
    assert (error.key, error.detail, str(error)) == (
        "too_many_rows",
        "more than 3 rows",
        "too_many_rows: more than 3 rows",
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.key, copy.detail) == ("too_many_rows", "more than 3 rows")
    assert str(UploadRefused("empty")) == "empty"


# CSV


def test_csv_rows_with_parameters() -> None:
    data = "13800138000,张三,1234\r\n+8613900139000\r\n".encode()
    assert read_recipients("list.csv", data) == [
        Row(1, ("13800138000", "张三", "1234")),
        Row(2, ("+8613900139000",)),
    ]


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode("utf-8"), id="utf-8"),
        pytest.param(lambda text: text.encode("utf-8-sig"), id="utf-8-bom"),
        pytest.param(lambda text: text.encode("utf-16"), id="utf-16"),
        pytest.param(lambda text: b"\xff\xfe" + text.encode("utf-16-le"), id="utf-16-le-bom"),
        pytest.param(lambda text: b"\xfe\xff" + text.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(lambda text: text.encode("gb18030"), id="gb18030"),
        pytest.param(lambda text: text.encode("gbk"), id="gbk"),
    ],
)
def test_csv_encodings(encode: Callable[[str], bytes]) -> None:
    text = "手机号,姓名,验证码\n13800138000,张三,1234\n13900139000,李四,５６７８\n"
    assert cells(read_recipients("名单.csv", encode(text))) == [
        ("13800138000", "张三", "1234"),
        ("13900139000", "李四", "５６７８"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Excel in locales with a decimal comma saves with semicolons.
        ("13800138000;Müller, Hans;3,50\n", [("13800138000", "Müller, Hans", "3,50")]),
        ("13800138000\tfoo,bar;baz\t1\n", [("13800138000", "foo,bar;baz", "1")]),
        ("13800138000,a;b\tc\n", [("13800138000", "a;b\tc")]),
        # A header with another delimiter inside a cell does not decide; the data line does.
        ("name;x,phone\n13800138000,a;b\n", [("13800138000", "a;b")]),
        # Single-column lines say nothing; the first line with a delimiter does.
        ("13800138000\n13900139000;x,y\n", [("13800138000",), ("13900139000", "x,y")]),
        # A quoted first cell is skipped whole, doubled quotes and all.
        ('"138,""00""";x\n', [('138,"00"', "x")]),
        # No delimiter anywhere: one column, read as comma-separated.
        ("13800138000\n13900139000\n", [("13800138000",), ("13900139000",)]),
    ],
)
def test_csv_delimiter_is_what_follows_the_number(
    text: str, expected: list[tuple[str, ...]]
) -> None:
    assert cells(read_recipients("list.csv", text.encode())) == expected


def test_csv_tab_separated_utf16_as_excel_unicode_text() -> None:
    text = "号码\t参数\r\n13800138000\t您好，世界\r\n"
    assert cells(read_recipients("list.txt", text.encode("utf-16"))) == [
        ("13800138000", "您好，世界")
    ]


def test_csv_quoted_cells_with_delimiters_newlines_and_quotes() -> None:
    text = (
        'phone,text\r\n13800138000,"a, b","line 1\r\nline 2"\r\n'
        '13900139000,"say ""hi""",\r\n\r\n13700137000,"x\ny"\n'
    )
    # Lines are spreadsheet rows: a quoted multi-line cell is one row.
    assert read_recipients("list.csv", text.encode()) == [
        Row(2, ("13800138000", "a, b", "line 1\r\nline 2")),
        Row(3, ("13900139000", 'say "hi"')),
        Row(5, ("13700137000", "x\ny")),
    ]


def test_csv_cells_stripped_trailing_empties_and_blank_rows_dropped() -> None:
    text = "\n\n  phone , name \n , \n\n 13800138000 ,  a  , , b ,,  ,\n13900139000,,,\n  \n"
    assert read_recipients("list.csv", text.encode()) == [
        Row(6, ("13800138000", "a", "", "b")),
        Row(7, ("13900139000",)),
    ]


@pytest.mark.parametrize("header", ["phone", "手机号", "号码", "Mobile", "", "电话（必填）"])
def test_header_is_a_first_row_without_digits(header: str) -> None:
    text = f"{header},name\n13800138000,a\n"
    assert read_recipients("list.csv", text.encode()) == [Row(2, ("13800138000", "a"))]


def test_first_row_with_a_digit_is_data_even_if_meant_as_header() -> None:
    # "+86" holds digits: kept as a row, the caller then refuses it as a bad number.
    text = "phone (+86),name\n13800138000,a\n"
    assert cells(read_recipients("list.csv", text.encode())) == [
        ("phone (+86)", "name"),
        ("13800138000", "a"),
    ]


def test_only_the_first_row_can_be_a_header() -> None:
    text = "13800138000,a\nphone,b\n"
    assert cells(read_recipients("list.csv", text.encode())) == [
        ("13800138000", "a"),
        ("phone", "b"),
    ]


def test_content_decides_over_the_name() -> None:
    book = xlsx([["13800138000", "a"]])
    assert cells(read_recipients("list.csv", book)) == [("13800138000", "a")]
    assert cells(read_recipients("list.xlsx", b"13800138000,a\n")) == [("13800138000", "a")]


@pytest.mark.parametrize("filename", ["a.csv", "A.CSV", "x.y.Txt", "list.XLSX", " list.csv "])
def test_allowed_extensions_any_case(filename: str) -> None:
    assert cells(read_recipients(filename, b"13800138000\n")) == [("13800138000",)]


# Row length


def test_long_rows_keep_one_cell_too_many() -> None:
    numbers = [str(n) for n in range(30)]
    (row,) = read_recipients("list.csv", ",".join(numbers).encode())
    assert row.cells == tuple(numbers[: MAX_CELLS + 1])


def test_full_row_with_trailing_empties_is_not_too_long() -> None:
    full = [str(n) for n in range(MAX_CELLS)]
    (row,) = read_recipients("list.csv", ",".join([*full, "", " ", "", ""]).encode())
    assert row.cells == tuple(full)


def test_cell_far_past_the_limit_still_marks_the_row_too_long() -> None:
    full = [str(n) for n in range(MAX_CELLS)]
    (row,) = read_recipients("list.csv", ",".join([*full, "", "", "", "late"]).encode())
    assert row.cells == (*full, "")
    assert len(row.cells) == MAX_CELLS + 1


def test_xlsx_long_rows_keep_one_cell_too_many() -> None:
    full: list[object] = [str(n) for n in range(MAX_CELLS)]
    book = xlsx([[*full, None, None, "late"], [*full, None, None, None], full + ["x"] * 30])
    assert [len(c) for c in cells(read_recipients("list.xlsx", book))] == [22, 21, 22]


# XLSX


def test_xlsx_numbers_header_blank_rows_and_first_sheet_only() -> None:
    book = xlsx(
        [
            [],
            ["手机号", "姓名", "金额"],
            [13800138000, "张三", 12.5],
            [],
            [None, None, None],
            ["  ", ""],
            [13900139000.0, "  李四  ", 3],
            ["+86 137 0013 7000", None, "x"],
        ],
        [["13600136000", "second sheet"]],
    )
    assert read_recipients("名单.xlsx", book) == [
        Row(3, ("13800138000", "张三", "12.5")),
        Row(7, ("13900139000", "李四", "3")),
        Row(8, ("+86 137 0013 7000", "", "x")),
    ]


def test_xlsx_first_worksheet_even_if_another_is_active() -> None:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(["13800138000", "first"])
    workbook.create_sheet("other").append(["13900139000", "other"])
    workbook.active = 1
    out = io.BytesIO()
    workbook.save(out)
    assert cells(read_recipients("list.xlsx", out.getvalue())) == [("13800138000", "first")]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (13800138000, "13800138000"),
        (13800138000.0, "13800138000"),
        (8613800138000.0, "8613800138000"),
        (0, "0"),
        (-2.0, "-2"),
        (3.5, "3.5"),
        (0.1, "0.1"),
        (True, "TRUE"),
        (False, "FALSE"),
        (date(2024, 1, 2), "2024-01-02"),
        (datetime(2024, 1, 2), "2024-01-02"),
        (datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (time(9, 30), "09:30:00"),
        ("  padded\t", "padded"),
        ("=1+1", ""),  # a formula without a cached value (never computed) reads as empty
    ],
)
def test_xlsx_cell_values(value: object, text: str) -> None:
    (row,) = read_recipients("list.xlsx", xlsx([["13800138000", value, "end"]]))
    assert row.cells == ("13800138000", text, "end")


def test_xlsx_with_a_wrong_declared_size_is_read_whole() -> None:
    book = xlsx([["13800138000"], ["13900139000"], ["13700137000"]])
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:A3"' in sheet
    wrong = sheet.replace(b'<dimension ref="A1:A3"', b'<dimension ref="A1"')
    book = rezip(book, {"xl/worksheets/sheet1.xml": wrong})
    assert len(read_recipients("list.xlsx", book)) == 3


# Refusals


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


GOOD_BOOK = xlsx([["13800138000", "a"]])


@pytest.mark.parametrize(
    ("filename", "data", "key"),
    [
        ("list.csv", b"", "empty"),
        ("list.xlsx", b"", "empty"),
        ("list.csv", b"\r\n\r\n , ,\n\t\n", "empty"),
        ("list.csv", b"phone,name\n", "empty"),
        ("list.csv", "手机号,姓名\n\n".encode("gb18030"), "empty"),
        ("list.csv", b"\xef\xbb\xbf", "empty"),
        ("list.xlsx", xlsx([["phone", "name"], [], [None]]), "empty"),
        ("list.xlsx", xlsx([]), "empty"),
        ("list.xlsx", xlsx([], [["13800138000"]]), "empty"),  # data only on the second sheet
        ("list.csv", b"13800138000\0,a\n", "bad_type"),
        ("list.csv", "13800138000\n".encode("utf-16-le"), "bad_type"),  # no BOM: NULs
        ("list.csv", b"\xff\xfe1", "bad_type"),  # odd length UTF-16
        ("list.csv", b"\xff\xfe" + "1\0".encode("utf-16-le"), "bad_type"),
        ("list.csv", b"13800138000,\x80\xff\n", "bad_type"),  # neither UTF-8 nor GB18030
        ("list.pdf", b"13800138000\n", "bad_type"),
        ("list.docx", GOOD_BOOK, "bad_type"),
        ("list.xlsm", GOOD_BOOK, "bad_type"),
        ("list.csv.exe", b"13800138000\n", "bad_type"),
        ("list", b"13800138000\n", "bad_type"),
        ("", b"13800138000\n", "bad_type"),
        ("list.xls", OLE + b"\0" * 504, "xls"),
        ("list.XLS", b"13800138000\n", "xls"),
        ("list.xlsx", OLE + b"\0" * 504, "xls"),
        ("list.csv", OLE, "xls"),
        ("list.xlsx", zip_of({"hello.txt": b"hello"}), "bad_file"),
        ("list.xlsx", b"PK\x03\x04not a zip at all", "bad_file"),
        ("list.xlsx", GOOD_BOOK[: len(GOOD_BOOK) // 2], "bad_file"),
        (
            "list.xlsx",
            rezip(GOOD_BOOK, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"}),
            "bad_file",
        ),
        ("list.xlsx", rezip(GOOD_BOOK, {"xl/workbook.xml": b"not xml"}), "bad_file"),
        ("list.csv", b"13800138000," + b"x" * (csv.field_size_limit() + 1), "bad_file"),
    ],
)
def test_refused(filename: str, data: bytes, key: str) -> None:
    error = refused(filename, data)
    assert error.key == key, error
    assert error.detail


def test_too_large() -> None:
    # Checked before anything else, even the content.
    assert refused("list.csv", b"\0" * (MAX_BYTES + 1)).key == "too_large"


def test_size_limit_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recipients, "MAX_BYTES", 24)
    assert len(read_recipients("list.csv", b"13800138000\n13900139000\n")) == 2
    assert refused("list.csv", b"13800138000\n13900139000\n ").key == "too_large"


def test_zip_bomb_refused_before_unzipping() -> None:
    # 101 MB of zeros deflate to about 100 kB: a valid workbook plus one such entry.
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(GOOD_BOOK)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            target.writestr(name, source.read(name))
        with target.open("xl/media/zeros.bin", "w") as entry:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(101):
                entry.write(chunk)
    data = out.getvalue()
    assert len(data) < MAX_BYTES
    error = refused("list.xlsx", data)
    assert error.key == "bad_file"
    assert "unzips to" in error.detail


def test_unzipped_limit_counts_every_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    with zipfile.ZipFile(io.BytesIO(GOOD_BOOK)) as archive:
        total = sum(info.file_size for info in archive.infolist())
    monkeypatch.setattr(recipients, "MAX_UNZIPPED", total)
    assert len(read_recipients("list.xlsx", GOOD_BOOK)) == 1
    monkeypatch.setattr(recipients, "MAX_UNZIPPED", total - 1)
    assert refused("list.xlsx", GOOD_BOOK).key == "bad_file"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_too_many_rows(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(recipients, "MAX_ROWS", 3)
    # The header and blank rows do not count.
    rows: list[list[object]] = [["phone"], [], ["13800138000"], [""], ["13800138001"]]
    rows.append(["13800138002"])

    def data() -> bytes:
        if kind == "xlsx":
            return xlsx(rows)
        return csv_text([[str(c) for c in row] for row in rows]).encode()

    assert len(read_recipients(f"list.{kind}", data())) == 3
    rows.append(["13800138003"])
    error = refused(f"list.{kind}", data())
    assert (error.key, error.detail) == ("too_many_rows", "more than 3 rows")


def test_reading_stops_at_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A broken record after the limit is never reached.
    monkeypatch.setattr(recipients, "MAX_ROWS", 3)
    data = b"1\n2\n3\n4\n5," + b"x" * (csv.field_size_limit() + 1)
    assert refused("list.csv", data).key == "too_many_rows"


# Properties: whatever csv.writer or openpyxl writes reads back the same.

PHONES = st.from_regex(r"\+?[0-9]([0-9 ()-]{0,14}[0-9])?", fullmatch=True)
# Printable text without surrounding whitespace, plus line breaks inside cells.
TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cn", "Zl", "Zp"), include_characters="\n"),
    max_size=12,
).filter(lambda text: text == text.strip())
DATA_ROWS = st.builds(
    lambda phone, params: [phone, *params], PHONES, st.lists(TEXT, max_size=MAX_CELLS - 1)
)
BLANK_ROWS = st.sampled_from([[], [""], ["", "", ""]])
HEADERS = st.sampled_from([[], ["phone"], ["手机号", "姓名", "验证码"], ["号码;备注", "a,b\tc"]])


def expected_rows(rows: list[list[str]], first_line: int) -> list[Row]:
    found = []
    for line, row in enumerate(rows, start=first_line):
        kept = list(row)
        while kept and not kept[-1]:
            kept.pop()
        if kept:
            found.append(Row(line, tuple(kept)))
    return found


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
@settings(max_examples=60, deadline=None)
@given(header=HEADERS, rows=st.lists(DATA_ROWS | BLANK_ROWS, min_size=1, max_size=8))
def test_csv_round_trip(
    delimiter: str, encoding: str, header: list[str], rows: list[list[str]]
) -> None:
    assume(any(row and row[0] for row in rows))
    heading = [header] if header else []
    text = csv_text(heading + rows, delimiter)
    data = text.encode(encoding)
    if encoding == "gb18030":
        # GB18030 bytes that also happen to be valid UTF-8 are read as UTF-8, rightly so.
        with contextlib.suppress(UnicodeDecodeError):
            assume(data.decode("utf-8") == text)
    assert read_recipients("list.csv", data) == expected_rows(rows, len(heading) + 1)


XLSX_TEXT = TEXT.filter(lambda text: not text.startswith("="))  # "=..." is written as a formula
XLSX_ROWS = st.builds(
    lambda phone, params: [phone, *params], PHONES, st.lists(XLSX_TEXT, max_size=MAX_CELLS - 1)
)


@settings(max_examples=60, deadline=None)
@given(
    header=HEADERS,
    rows=st.lists(XLSX_ROWS | BLANK_ROWS, min_size=1, max_size=8),
    write_only=st.booleans(),
)
def test_xlsx_round_trip(header: list[str], rows: list[list[str]], write_only: bool) -> None:
    assume(any(row and row[0] for row in rows))
    heading = [header] if header else []
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet() if write_only else workbook.active
    assert sheet is not None
    for row in heading + rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    assert read_recipients("list.xlsx", out.getvalue()) == expected_rows(rows, len(heading) + 1)
