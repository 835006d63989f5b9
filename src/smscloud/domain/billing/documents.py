"""Bill documents a tenant receives: CSV for spreadsheets and an A4 PDF."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF, FontFace
from fpdf.enums import Align, WrapMode, XPos, YPos

from smscloud.domain.billing.bills import Bill
from smscloud.domain.billing.money import format_yuan
from smscloud.domain.billing.prices import SMS_INTL, VOICE

__all__ = ["CJK_FONT", "CJK_FONT_PACKAGE", "PRODUCT_NAMES", "bill_csv", "bill_pdf"]

# WenQuanYi Micro Hei covers Latin and CJK in one face. Debian ships it only as a TrueType
# collection (.ttc); fpdf2 reads collections itself (face 0 via collection_font_number), so
# no converted .ttf is needed.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FONT_PACKAGE = "fonts-wqy-microhei"

PRODUCT_NAMES = {SMS_INTL: "International SMS / 国际短信", VOICE: "Voice / 语音"}
LINE_COLUMNS = ("product", "iso_code", "nation_code", "unit_price", "quantity", "amount")
# Spreadsheets run a cell starting with these as a formula; a tenant picks its own name.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _when(ts: float, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def _text_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def bill_csv(bill: Bill, tz: tzinfo = UTC) -> str:
    """The bill as CSV: a tenant/month/currency/issued/due block, the lines, then the total.

    Unit prices have 4 decimals and amounts 2 (yuan); times are ISO 8601 in `tz`.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(
        [
            ("tenant", _text_cell(bill.tenant_name)),
            ("month", bill.month),
            ("currency", bill.currency),
            ("issued", _when(bill.issued_at, tz)),
            ("due", _when(bill.due_at, tz)),
            (),
            LINE_COLUMNS,
        ]
    )
    for line in bill.lines:
        writer.writerow(
            (
                line.product,
                line.iso_code,
                line.nation_code,
                format_yuan(line.unit_price, 4),
                line.quantity,
                format_yuan(line.amount, 2),
            )
        )
    writer.writerow(("total", "", "", "", "", format_yuan(bill.total, 2)))
    return out.getvalue()


_FONT = "cjk"
_PDF_COLUMNS = (
    "Product / 产品",
    "Country / 国家",
    "Unit price / 单价",
    "Quantity / 数量",
    "Amount / 金额",
)
_COLUMN_WIDTHS = (62, 30, 32, 24, 32)  # mm, the 180 mm between A4's 15 mm margins


def bill_pdf(bill: Bill, tz: ZoneInfo, *, font: Path = CJK_FONT) -> bytes:
    """Render the bill as an A4 PDF (Chinese and English), dates shown in `tz`.

    Raises FileNotFoundError naming the Debian package when the CJK font is missing.
    """
    if not font.is_file():
        raise FileNotFoundError(
            f"CJK font {font} not found: install the Debian package {CJK_FONT_PACKAGE}"
        )
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    # A fixed creation date (and so a fixed file ID) makes the same bill render to the
    # same bytes, whenever it is rendered.
    pdf.set_creation_date(datetime.fromtimestamp(bill.issued_at, UTC))
    pdf.set_title(f"smscloud bill {bill.month}")
    pdf.set_author("smscloud")
    pdf.add_font(_FONT, "", str(font), collection_font_number=0)
    pdf.add_page()

    pdf.set_font(_FONT, size=18)
    pdf.cell(text="smscloud bill / 账单", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(_FONT, size=11)
    header = [
        ("Tenant / 客户", f"{bill.tenant_name} (#{bill.tenant_id})"),
        ("Month / 账期", bill.month),
        ("Issued / 开具", _local(bill.issued_at, tz)),
        ("Due / 付款截止", _local(bill.due_at, tz)),
        ("Currency / 币种", bill.currency),
    ]
    for label, value in header:
        pdf.cell(w=40, h=7, text=label)
        # CHAR wrapping: Chinese names have no spaces for WORD wrapping to break at.
        pdf.multi_cell(w=0, h=7, text=value, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN)
    pdf.ln(4)

    pdf.set_font(_FONT, size=10)
    heading = FontFace(emphasis="NONE", fill_color=(225, 225, 225))  # the font has no bold
    with pdf.table(
        col_widths=_COLUMN_WIDTHS,
        width=sum(_COLUMN_WIDTHS),
        text_align=(Align.L, Align.L, Align.R, Align.R, Align.R),
        headings_style=heading,
        line_height=6,
        padding=(1, 2),
    ) as table:
        table.row(_PDF_COLUMNS)
        for line in bill.lines:
            table.row(
                (
                    PRODUCT_NAMES.get(line.product, line.product),
                    f"{line.iso_code} (+{line.nation_code})",
                    format_yuan(line.unit_price, 4),
                    str(line.quantity),
                    format_yuan(line.amount, 2),
                )
            )
    pdf.ln(4)
    pdf.set_font(_FONT, size=13)
    pdf.cell(
        w=0, h=8, text=f"Total / 合计: {bill.currency} {format_yuan(bill.total, 2)}", align=Align.R
    )
    return bytes(pdf.output())


def _local(ts: float, tz: ZoneInfo) -> str:
    return f"{datetime.fromtimestamp(ts, tz):%Y-%m-%d %H:%M} ({tz.key})"
