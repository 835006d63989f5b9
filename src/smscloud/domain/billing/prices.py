"""The postpaid price table: a unit price per (product, destination country), CSV in and out."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from smscloud.domain.billing.money import format_yuan_exact, parse_yuan

__all__ = [
    "CSV_HEADER",
    "PRODUCTS",
    "SMS_INTL",
    "VOICE",
    "PriceRow",
    "PriceTable",
    "PriceTableError",
    "parse_csv",
    "to_csv",
    "voice_minutes",
]

SMS_INTL = "sms_intl"  # priced per billed SMS part
VOICE = "voice"  # priced per started minute, see voice_minutes()
PRODUCTS = frozenset({SMS_INTL, VOICE})
CSV_HEADER = ("product", "iso_code", "nation_code", "unit_price_yuan")

_ISO_CODE = re.compile(r"[A-Z]{2}")
# Calling codes never start with 0; refusing "01" keeps "1" and "01" from becoming two
# different destinations that would split one country's usage across bill lines.
_NATION_CODE = re.compile(r"[1-9][0-9]{0,3}")


def _ascii_upper(code: str) -> str:
    # str.upper() maps "ß" to "SS", which would pass as a country code; only ASCII is folded.
    return code.upper() if code.isascii() else code


def _row_problems(product: str, iso_code: str, nation_code: str, unit_price: int) -> list[str]:
    problems = []
    if product not in PRODUCTS:
        known = ", ".join(sorted(PRODUCTS))
        problems.append(f"unknown product {product!r} (known: {known})")
    if not _ISO_CODE.fullmatch(iso_code):
        problems.append(f"iso_code must be 2 letters (ISO 3166 alpha-2), got {iso_code!r}")
    if not _NATION_CODE.fullmatch(nation_code):
        problems.append(f"nation_code must be 1-4 digits without a leading 0, got {nation_code!r}")
    if unit_price < 0:
        problems.append(f"unit price cannot be negative, got {unit_price}")
    return problems


@dataclass(frozen=True)
class PriceRow:
    """The price of one unit of `product` sent to one country, in micro-yuan."""

    product: str
    iso_code: str  # ISO 3166 alpha-2, upper case
    nation_code: str  # the country calling code, digits only ("1", "852")
    unit_price: int

    def __post_init__(self) -> None:
        problems = _row_problems(self.product, self.iso_code, self.nation_code, self.unit_price)
        if problems:
            raise ValueError("; ".join(problems))


class PriceTableError(ValueError):
    """A price table that failed validation; `errors` lists every problem found."""

    errors: list[str]

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid price table:\n" + "\n".join(errors))
        self.errors = errors


class PriceTable:
    """An immutable set of price rows, at most one per (product, iso_code)."""

    __slots__ = ("_by_key", "_rows")

    def __init__(self, rows: Iterable[PriceRow] = ()) -> None:
        by_key: dict[tuple[str, str], PriceRow] = {}
        for row in rows:
            key = (row.product, row.iso_code)
            if key in by_key:
                raise ValueError(f"duplicate price for {row.product} {row.iso_code}")
            by_key[key] = row
        self._by_key = by_key
        self._rows = tuple(sorted(by_key.values(), key=lambda r: (r.product, r.iso_code)))

    @property
    def rows(self) -> tuple[PriceRow, ...]:
        """All rows, sorted by (product, iso_code)."""
        return self._rows

    def lookup(self, product: str, iso_code: str) -> PriceRow | None:
        """The row for `product` to `iso_code` (any case), or None when it has no price."""
        return self._by_key.get((product, _ascii_upper(iso_code)))

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[PriceRow]:
        return iter(self._rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PriceTable):
            return NotImplemented
        return self._rows == other._rows

    def __hash__(self) -> int:
        return hash(self._rows)

    def __repr__(self) -> str:
        return f"PriceTable({list(self._rows)!r})"


def voice_minutes(seconds: int) -> int:
    """Billed minutes of a call: every started minute counts (0 s -> 0, 61 s -> 2)."""
    if seconds < 0:
        raise ValueError(f"a call cannot last {seconds} seconds")
    return -(-seconds // 60)


def parse_csv(text: str) -> PriceTable:
    """Parse a price table CSV (header `product,iso_code,nation_code,unit_price_yuan`).

    Tolerates a UTF-8 BOM, CRLF line ends, blank lines and spaces around fields.
    Raises PriceTableError listing every bad line as "line N: reason".
    """
    text = text.removeprefix("\ufeff")
    # newline="" hands "\r\n" to the csv module untouched, which is how it expects them.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[str] = []
    rows: list[PriceRow] = []
    first_line: dict[tuple[str, str], int] = {}
    header_seen = False
    try:
        for record in reader:
            line = reader.line_num
            fields = [field.strip() for field in record]
            if not any(fields):
                continue
            if not header_seen:
                header_seen = True
                if tuple(f.lower() for f in fields) != CSV_HEADER:
                    # Without the header the columns cannot be trusted, so stop here.
                    expected = ",".join(CSV_HEADER)
                    raise PriceTableError([f"line {line}: expected header {expected!r}"])
                continue
            if len(fields) != len(CSV_HEADER):
                errors.append(f"line {line}: expected {len(CSV_HEADER)} fields, got {len(fields)}")
                continue
            row = _parse_row(fields, line, errors)
            if row is None:
                continue
            key = (row.product, row.iso_code)
            if key in first_line:
                errors.append(
                    f"line {line}: duplicate price for {row.product} {row.iso_code}"
                    f" (first on line {first_line[key]})"
                )
                continue
            first_line[key] = line
            rows.append(row)
    except csv.Error as exc:
        errors.append(f"line {reader.line_num}: unreadable CSV ({exc})")
    if not header_seen and not errors:
        errors.append(f"line 1: missing header {','.join(CSV_HEADER)!r}")
    if errors:
        raise PriceTableError(errors)
    return PriceTable(rows)


def _parse_row(fields: list[str], line: int, errors: list[str]) -> PriceRow | None:
    product, iso_code, nation_code, price_text = fields
    iso_code = _ascii_upper(iso_code)
    problems = []
    try:
        unit_price = parse_yuan(price_text)
    except ValueError as exc:
        problems.append(str(exc))
        unit_price = 0
    problems = _row_problems(product, iso_code, nation_code, unit_price) + problems
    if problems:
        errors.extend(f"line {line}: {problem}" for problem in problems)
        return None
    return PriceRow(product, iso_code, nation_code, unit_price)


def to_csv(table: PriceTable) -> str:
    """Write `table` as CSV with the header parse_csv() expects; prices keep full precision."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in table.rows:
        writer.writerow(
            (row.product, row.iso_code, row.nation_code, format_yuan_exact(row.unit_price))
        )
    return out.getvalue()
