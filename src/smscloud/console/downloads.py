"""Tables the console hands out as files: CSV streamed as it is written, XLSX built on disk.

Both take the rows as an async iterator of batches, so a caller reading a database in batches
never holds more than one batch:

- **CSV** goes out as it is made: each batch is encoded and sent before the next is read. It
  starts with a UTF-8 byte-order mark, without which Excel reads UTF-8 as the system's code
  page and garbles Chinese.
- **XLSX** is a zip whose directory comes last, so it cannot be sent before it is finished.
  openpyxl's write-only workbook writes each appended row to a temporary sheet file (strings
  inline, no shared-strings table kept in memory); the workbook is then zipped into one
  temporary file, streamed out in blocks and deleted, also when the download is abandoned.

A text cell that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@`` first) is
written with a leading apostrophe in CSV and as a plain string in XLSX: what a tenant wrote in
a template must not run as a formula on the machine that opens the export (OWASP "CSV
injection").
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.responses import StreamingResponse

# openpyxl is loaded by the first XLSX export, not with the console: it costs every API
# process some 18 MiB of memory that most never use.
if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

BOM = "\ufeff"
BLOCK = 64 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | float | None
Batches = AsyncIterator[Sequence[Sequence[Cell]]]


class Text(str):
    """Text written by a user: kept from being read as a formula."""

    __slots__ = ()


@dataclass
class Sheet:
    """One table of an export: its title (the sheet's name in XLSX), header and rows."""

    title: str
    header: list[str]
    rows: Batches
    widths: list[int] = field(default_factory=list)


def _csv_cell(value: Cell) -> Cell:
    if isinstance(value, Text) and value.startswith(FORMULA_START):
        return "'" + value
    return value


async def csv_chunks(sheets: Sequence[Sheet]) -> AsyncIterator[bytes]:
    """The tables one after another (a blank line between), as UTF-8 with a BOM, one chunk
    per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends

    def take() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    buffer.write(BOM)
    for number, sheet in enumerate(sheets):
        if number:
            writer.writerow([])
        writer.writerow(sheet.header)
        yield take()
        async for batch in sheet.rows:
            writer.writerows([_csv_cell(v) for v in row] for row in batch)
            yield take()


def _append(ws: WriteOnlyWorksheet, batch: Sequence[Sequence[Cell]]) -> None:
    from openpyxl.cell import WriteOnlyCell

    for row in batch:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, Text) and value.startswith("="):
                cell = WriteOnlyCell(ws, str(value))
                cell.data_type = "s"  # openpyxl would otherwise store it as a formula
                cells.append(cell)
            else:
                cells.append(str(value) if isinstance(value, Text) else value)
        ws.append(cells)


def _discard(ws: WriteOnlyWorksheet) -> None:
    # A workbook never saved leaves its sheets' temporary files behind: remove them.
    writer = getattr(ws, "_writer", None)
    if writer is not None:
        with contextlib.suppress(Exception):
            ws.close()
            writer.cleanup()


async def xlsx_chunks(sheets: Sequence[Sheet]) -> AsyncIterator[bytes]:
    """The tables as the sheets of one workbook, streamed in blocks once it is built."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    fd, path = tempfile.mkstemp(prefix="smscloud-export-", suffix=".xlsx")
    os.close(fd)
    wb = Workbook(write_only=True)
    saved = False
    try:
        for sheet in sheets:
            ws = wb.create_sheet(sheet.title[:31])  # Excel's limit on a sheet's name
            for column, width in enumerate(sheet.widths):
                ws.column_dimensions[get_column_letter(column + 1)].width = width
            ws.append(sheet.header)
            async for batch in sheet.rows:
                # Building cells is CPU work: off the event loop, one batch at a time.
                await asyncio.to_thread(_append, ws, batch)
        await asyncio.to_thread(wb.save, path)
        saved = True
        fh = await asyncio.to_thread(open, path, "rb")
        try:
            while block := await asyncio.to_thread(fh.read, BLOCK):
                yield block
        finally:
            fh.close()
    finally:
        if not saved:
            for ws in wb.worksheets:
                _discard(ws)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def attachment(filename: str) -> dict[str, str]:
    """Headers of a download named ``filename`` (RFC 6266: an ASCII name and the UTF-8 one)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
        ),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def download(sheets: Sequence[Sheet], kind: str, stem: str) -> StreamingResponse:
    """A streamed download of ``sheets`` as ``kind`` ("csv" or "xlsx") named ``stem.kind``."""
    if kind == "csv":
        body, media = csv_chunks(sheets), CSV_TYPE
    else:
        body, media = xlsx_chunks(sheets), XLSX_TYPE
    return StreamingResponse(body, media_type=media, headers=attachment(f"{stem}.{kind}"))
