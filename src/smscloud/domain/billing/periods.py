"""Bill months: calendar months in the tenant's time zone, as half-open Unix time ranges."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["due_date", "month_of", "month_range", "next_month", "parse_month", "previous_month"]

# Bills belong to the Unix era; 9998 is the last year whose following month datetime can
# still represent, so every valid month also has a valid end.
MIN_YEAR = 1970
MAX_YEAR = 9998
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def parse_month(month: str) -> tuple[int, int]:
    """Split a strict "YYYY-MM" into (year, month); ValueError for anything else."""
    match = _MONTH.fullmatch(month)
    if match is None:
        raise ValueError(f"invalid bill month {month!r}: expected 'YYYY-MM'")
    year, mon = int(match.group(1)), int(match.group(2))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"bill month {month!r} is outside {MIN_YEAR}-01..{MAX_YEAR}-12")
    return year, mon


def _format(year: int, mon: int) -> str:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"bill month {year}-{mon:02d} is outside {MIN_YEAR}-01..{MAX_YEAR}-12")
    return f"{year:04d}-{mon:02d}"


def _local_midnight(year: int, mon: int, day: int, tz: ZoneInfo) -> float:
    # fold=0 picks the earlier of two repeated wall times, and for a midnight skipped by a
    # DST jump it yields the jump's instant: either way the first instant of that day.
    return datetime(year, mon, day, tzinfo=tz).timestamp()


def month_of(ts: float, tz: ZoneInfo) -> str:
    """The bill month ("YYYY-MM") of the local date of Unix time `ts` in `tz`."""
    local = datetime.fromtimestamp(ts, tz)
    return _format(local.year, local.month)


def previous_month(month: str) -> str:
    """The month before `month`."""
    year, mon = parse_month(month)
    return _format(year - 1, 12) if mon == 1 else _format(year, mon - 1)


def next_month(month: str) -> str:
    """The month after `month`."""
    year, mon = parse_month(month)
    return _format(year + 1, 1) if mon == 12 else _format(year, mon + 1)


def _next(year: int, mon: int) -> tuple[int, int]:
    return (year + 1, 1) if mon == 12 else (year, mon + 1)


def month_range(month: str, tz: ZoneInfo) -> tuple[float, float]:
    """Unix times [start, end) of the local calendar month `month` in `tz`."""
    year, mon = parse_month(month)
    return _local_midnight(year, mon, 1, tz), _local_midnight(*_next(year, mon), 1, tz)


def due_date(month: str, tz: ZoneInfo, days: int) -> float:
    """Local midnight `days` calendar days after the end of `month`: the payment deadline."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    end = datetime(*_next(*parse_month(month)), 1) + timedelta(days=days)
    # Counted in local calendar days, not 86_400 s steps, so a DST change in between
    # still lands on midnight.
    return _local_midnight(end.year, end.month, end.day, tz)
