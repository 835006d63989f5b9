"""Operator commands for postpaid billing: ``admin price ...`` and ``admin bill ...``.

``register`` adds the sub-commands to ``smscloud admin``; ``actions`` maps each
``(area, op)`` to a function of a connection, run in one transaction like every admin command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from smscloud.clock import system_clock
from smscloud.config import Settings
from smscloud.domain.billing.money import format_yuan_exact
from smscloud.domain.billing.prices import CSV_HEADER, to_csv
from smscloud.domain.errors import RuleViolation
from smscloud.private_files import write_private
from smscloud.services.billing import postpaid

__all__ = ["actions", "register"]

if TYPE_CHECKING:
    # The shape of cli/main.py's ``cmd``: a sub-command with a ``--json`` flag.
    Command = Callable[[argparse._SubParsersAction[Any], str, str], argparse.ArgumentParser]


def register(admin: argparse._SubParsersAction[Any], cmd: Command) -> None:
    """Add ``price import|export`` and ``bill close|list|pay|export`` to ``admin``."""
    price = admin.add_parser("price", help="postpaid price table").add_subparsers(
        dest="op", required=True
    )
    p = cmd(price, "import", "replace the price table with a CSV file")
    p.add_argument("file", type=Path, help=f"CSV with header {','.join(CSV_HEADER)}")
    p = cmd(price, "export", "write the price table as CSV")
    p.add_argument("--out", type=Path, default=None, help="CSV file (default: list the rows)")

    bill = admin.add_parser("bill", help="postpaid monthly bills").add_subparsers(
        dest="op", required=True
    )
    p = cmd(bill, "close", "bill every tenant's usage of a month that has ended")
    p.add_argument("--month", required=True, help="YYYY-MM, in the platform's time zone")
    p.add_argument("--due-days", type=int, default=15, help="days after the month to pay")
    p = cmd(bill, "list", "list bills, newest month first")
    p.add_argument("--tenant", type=int, default=None)
    p = cmd(bill, "pay", "record that a bill was paid in full")
    p.add_argument("--id", required=True, type=int)
    p = cmd(bill, "export", "write a bill as CSV or PDF")
    p.add_argument("--id", required=True, type=int)
    p.add_argument("--format", required=True, choices=["csv", "pdf"])
    p.add_argument("--out", required=True, type=Path)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleViolation("InvalidParameterValue", f"cannot read {path}: {exc}") from exc


def _export_prices(conn: Connection, out: Path | None) -> Any:
    if out is None:
        return [
            {
                "product": row.product,
                "iso_code": row.iso_code,
                "nation_code": row.nation_code,
                "unit_price_yuan": format_yuan_exact(row.unit_price),
            }
            for row in postpaid.load_prices(conn)
        ]
    table = postpaid.load_prices(conn)
    write_private(out, to_csv(table).encode("utf-8"))
    return {"out": str(out), "prices": len(table)}


def _export_bill(conn: Connection, bill_id: int, fmt: str, out: Path, settings: Settings) -> Any:
    # Imported here: fpdf and Pillow would add some 20 MiB to every process that loads the CLI.
    from smscloud.domain.billing.documents import bill_csv, bill_pdf

    stored = postpaid.bill(conn, bill_id)
    data = (
        bill_pdf(stored, settings.tz)
        if fmt == "pdf"
        else bill_csv(stored, settings.tz).encode("utf-8")
    )
    write_private(out, data)
    return {
        "id": bill_id,
        "month": stored.month,
        "format": fmt,
        "out": str(out),
        "bytes": len(data),
    }


def actions(
    args: argparse.Namespace, settings: Settings
) -> dict[tuple[str, str], Callable[[Connection], Any]]:
    """What each postpaid command does, keyed by ``(area, op)``."""
    return {
        ("price", "import"): lambda c: postpaid.import_prices(c, _read(args.file)),
        ("price", "export"): lambda c: _export_prices(c, args.out),
        ("bill", "close"): lambda c: postpaid.close_month(
            c, args.month, settings.tz, system_clock(), args.due_days
        ),
        ("bill", "list"): lambda c: postpaid.list_bills(c, args.tenant),
        ("bill", "pay"): lambda c: postpaid.pay_bill(c, args.id, system_clock()),
        ("bill", "export"): lambda c: _export_bill(c, args.id, args.format, args.out, settings),
    }
