"""Recipient lists for bulk tasks: a CSV or XLSX upload, one phone number and its parameters a row.

Only the file as a whole is judged here (`UploadRefused`); each row's number and parameter count
are checked later by the caller, which is why over-long rows keep one cell too many rather than
being refused or cut silently.

The type comes from the content, never the name alone: Excel users rename files freely, and a
CSV saved by Chinese Excel is GB18030 while one saved as "Unicode text" is UTF-16 with tabs.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time

__all__ = [
    "MAX_BYTES",
    "MAX_CELLS",
    "MAX_ROWS",
    "MAX_UNZIPPED",
    "Row",
    "UploadRefused",
    "read_recipients",
]

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 200_000
MAX_CELLS = 21  # the number and up to 20 template parameters
# An XLSX is a zip: 10 MB of upload may inflate a thousandfold, so the declared sizes are
# checked before openpyxl reads anything (zipfile never yields more than an entry declares).
MAX_UNZIPPED = 100 * 1024 * 1024

_EXTENSIONS = frozenset({"csv", "txt", "xlsx"})
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = ",;\t"
_NOT_CONTENT = _DELIMITERS + '" \r'
# Enough lines to get past a header and a few blank rows; a phone number is never this long.
_SNIFF_CHARS = 64 * 1024
_DIGITS = frozenset("0123456789")

# Numbered rows as the parsers yield them, lazily, so that reading stops at MAX_ROWS.
_Rows = Generator[tuple[int, Sequence[object]], None, None]


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its spreadsheet row number and its cells (number first, then parameters)."""

    line: int
    cells: tuple[str, ...]


class UploadRefused(ValueError):  # noqa: N818 (name fixed by the callers)
    """The file as a whole cannot be used.

    `key` is one of ``empty``, ``too_large``, ``bad_type``, ``xls``, ``too_many_rows``,
    ``bad_file``; `detail` is a short English explanation for logs and messages.
    """

    key: str
    detail: str

    def __init__(self, key: str, detail: str = "") -> None:
        # Both in args so the error pickles and re-raises intact across worker processes.
        super().__init__(key, detail)
        self.key = key
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.key}: {self.detail}" if self.detail else self.key


def read_recipients(filename: str, data: bytes) -> list[Row]:
    """The rows of an uploaded recipient list (CSV or XLSX), header and blank rows left out.

    Raises `UploadRefused` when the file as a whole cannot be used.
    """
    if len(data) > MAX_BYTES:
        raise UploadRefused("too_large", f"{len(data)} bytes, the limit is {MAX_BYTES}")
    name = filename.strip()
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in _EXTENSIONS and extension != "xls":
        raise UploadRefused("bad_type", f"extension {extension!r} is not csv, txt or xlsx")
    if not data:
        raise UploadRefused("empty", "the file is empty")
    if data.startswith(_OLE_MAGIC) or extension == "xls":
        raise UploadRefused("xls", "old binary Excel format; save as XLSX or CSV")
    rows = _xlsx_rows(data) if data.startswith(_ZIP_MAGIC) else _csv_rows(_decode(data))
    with closing(rows):
        return _collect(rows)


def _collect(rows: _Rows) -> list[Row]:
    found: list[Row] = []
    first = True
    for line, values in rows:
        cells = _cells(values)
        if not cells:
            continue
        if first:
            first = False
            # A number always has a digit; "phone", "手机号", "号码" never do.
            if _DIGITS.isdisjoint(cells[0]):
                continue
        if len(found) == MAX_ROWS:
            # Stop here: the rest of the file may be far larger than the limit.
            raise UploadRefused("too_many_rows", f"more than {MAX_ROWS} rows")
        found.append(Row(line, cells))
    if not found:
        raise UploadRefused("empty", "no data rows")
    return found


def _cells(values: Sequence[object]) -> tuple[str, ...]:
    """Stripped cells without trailing empties, at most MAX_CELLS + 1 of them."""
    keep = MAX_CELLS + 1
    head = [_text(value) for value in values[:keep]]
    tail = values[keep:]
    # An XLSX row padded with many empty cells must not cost a conversion per cell.
    if tail and tail.count(None) != len(tail) and any(_text(value) for value in tail):
        # Something lies past the limit: keep all MAX_CELLS + 1 cells, even an empty last one,
        # so the caller sees the row is too long instead of a row that looks complete.
        return tuple(head)
    while head and not head[-1]:
        head.pop()
    return tuple(head)


def _text(value: object) -> str:
    """A cell as the text the user typed or sees."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel stores every number as a double: 13800138000 arrives as 13800138000.0.
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        # Excel has no separate date type: a date cell arrives as a datetime at midnight.
        if value.time() == time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


# CSV


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Checked after decoding: UTF-16 is full of NUL bytes, but its text has none.
        if "\0" in text:
            raise UploadRefused("bad_type", "NUL character in text; not a CSV file")
        return text
    raise UploadRefused("bad_type", "text is not UTF-8, UTF-16 or GB18030")


def _delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever ends the first cell of the first data line.

    A phone number never holds any of the three, so the first one after it is the delimiter,
    where a statistical guess (csv.Sniffer) is easily fooled by commas inside parameters.
    """
    header = other = ""
    header_seen = False
    for line in text[:_SNIFF_CHARS].split("\n"):
        found = _first_cell(line)
        if found is not None:
            cell, delimiter = found
            if not _DIGITS.isdisjoint(cell):
                return delimiter
            # Without a data line, any other line (even an empty ",,," row) beats the
            # header, whose names may hold a delimiter ("号码;备注"); only data rows matter.
            if header_seen or not line.strip(_NOT_CONTENT):
                other = other or delimiter
            else:
                header = delimiter
        header_seen = header_seen or bool(line.strip(_NOT_CONTENT))
    return other or header or ","


def _first_cell(line: str) -> tuple[str, str] | None:
    """The first cell of a line and the delimiter after it, if the line has one."""
    start = 0
    if line.lstrip(" ").startswith('"'):
        # Skip the quoted cell; a doubled quote inside it is a literal quote.
        at = line.index('"') + 1
        while True:
            at = line.find('"', at)
            if at == -1:
                return None
            if not line.startswith('"', at + 1):
                break
            at += 2
        start = at + 1
    positions = [at for d in _DELIMITERS if (at := line.find(d, start)) != -1]
    if not positions:
        return None
    end = min(positions)
    return line[:end], line[end]


def _csv_rows(text: str) -> _Rows:
    # newline="" keeps line breaks inside quoted cells as they are, as the csv module wants.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    try:
        # Numbered by record, not by physical line: a spreadsheet shows a quoted multi-line
        # cell as one row.
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise UploadRefused("bad_file", str(exc)) from exc


# XLSX


def _xlsx_rows(data: bytes) -> _Rows:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        if unzipped > MAX_UNZIPPED:
            raise UploadRefused("bad_file", f"unzips to {unzipped} bytes, more than {MAX_UNZIPPED}")
        # Imported here: openpyxl costs a process about 19 MB, and only an XLSX upload needs it.
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = workbook.worksheets
            if not sheets:
                return
            sheet = sheets[0]
            # Some writers declare a wrong size (often "A1"), which read-only mode would
            # trust and so stop after the first row; without it every row in the file is read.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
            yield from enumerate(rows, start=1)
        finally:
            workbook.close()
    except UploadRefused:
        raise
    except Exception as exc:
        # A damaged or hostile workbook makes openpyxl raise almost anything (KeyError for a
        # missing part, ValueError, TypeError, XML errors...): all mean an unusable file.
        raise UploadRefused("bad_file", f"{type(exc).__name__}: {exc}") from exc
