"""Bill documents: the CSV text, and the PDF checked through poppler's text and raster output."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smscloud.domain.billing.bills import Bill, BillLine
from smscloud.domain.billing.documents import bill_csv, bill_pdf
from smscloud.domain.billing.periods import due_date, month_range
from smscloud.domain.billing.prices import SMS_INTL, VOICE

SHANGHAI = ZoneInfo("Asia/Shanghai")
TENANT = "深圳市某某科技有限公司"
MONTH = "2026-03"
ISSUED = month_range(MONTH, SHANGHAI)[1] + 9 * 3600  # 2026-04-01 09:00 in Shanghai
LINES = (
    BillLine(SMS_INTL, "HK", "852", 45_000, 101, 4_545_000),
    BillLine(SMS_INTL, "US", "1", 60_123, 7, 420_861),
    BillLine(VOICE, "SG", "65", 150_000, 3, 450_000),
)
BILL = Bill(
    tenant_id=42,
    tenant_name=TENANT,
    month=MONTH,
    lines=LINES,
    total=5_420_000,  # 5.415861 rounded to the fen
    issued_at=ISSUED,
    due_at=due_date(MONTH, SHANGHAI, 15),
)


def test_bill_csv() -> None:
    assert bill_csv(BILL, SHANGHAI) == (
        f"tenant,{TENANT}\n"
        "month,2026-03\n"
        "currency,CNY\n"
        "issued,2026-04-01T09:00:00+08:00\n"
        "due,2026-04-16T00:00:00+08:00\n"
        "\n"
        "product,iso_code,nation_code,unit_price,quantity,amount\n"
        "sms_intl,HK,852,0.0450,101,4.55\n"
        "sms_intl,US,1,0.0601,7,0.42\n"
        "voice,SG,65,0.1500,3,0.45\n"
        "total,,,,,5.42\n"
    )


def test_bill_csv_times_default_to_utc() -> None:
    text = bill_csv(BILL)
    assert "issued,2026-04-01T01:00:00+00:00\n" in text
    assert "due,2026-04-15T16:00:00+00:00\n" in text


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ('Acme, "Global" Ltd', 'Acme, "Global" Ltd'),
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+86 Corp", "'+86 Corp"),
        ("-x", "'-x"),
        ("@home", "'@home"),
    ],
)
def test_bill_csv_tenant_cell(name: str, cell: str) -> None:
    text = bill_csv(replace(BILL, tenant_name=name))
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == ["tenant", cell]
    assert records[-1] == ["total", "", "", "", "", "5.42"]


def test_bill_csv_negative_amounts() -> None:
    refund = BillLine(SMS_INTL, "HK", "852", 45_000, -2, -90_000)
    text = bill_csv(replace(BILL, lines=(refund,), total=-90_000))
    assert "sms_intl,HK,852,0.0450,-2,-0.09\n" in text
    assert text.endswith("total,,,,,-0.09\n")


def pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, timeout=60
    )
    return done.stdout.decode()


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert match is not None, data[:20]
    width, height, maxval = (int(g) for g in match.groups())
    assert maxval == 255
    pixels = data[match.end() :]
    assert len(pixels) == width * height
    return width, height, pixels


def test_bill_pdf_text_and_rendering(tmp_path: Path) -> None:
    pdf = bill_pdf(BILL, SHANGHAI)
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "bill.pdf"
    path.write_bytes(pdf)

    text = pdf_text(path)
    for expected in [
        "smscloud bill / 账单",
        TENANT,
        MONTH,
        "2026-04-01 09:00",
        "2026-04-16 00:00",
        "International SMS / 国际短信",
        "Voice / 语音",
        "CNY 5.42",
    ]:
        assert expected in text, expected
    for line in LINES:
        assert f"{line.iso_code} (+{line.nation_code})" in text
    assert re.search(r"US \(\+1\)\s+0\.0601\s+7\s+0\.42", text), text

    subprocess.run(
        ["pdftoppm", "-gray", "-r", "50", str(path), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page*.pgm"))
    assert len(pages) == 1
    width, height, pixels = read_pgm(pages[0])
    # A4 is 595.28 x 841.89 pt: 413.4 x 584.6 pixels at 50 dpi, rounded either way.
    assert abs(width - 413.4) < 1
    assert abs(height - 584.6) < 1
    dark = sum(1 for p in pixels if p < 128)
    # Text and table rules, on a page that is mostly white paper.
    assert 0.005 < dark / len(pixels) < 0.2
    # Ink in the top third (title, header, table), none in the bottom third.
    third = width * (height // 3)
    assert any(p < 128 for p in pixels[:third])
    assert all(p >= 128 for p in pixels[-third:])


def test_bill_pdf_many_lines_spill_onto_more_pages(tmp_path: Path) -> None:
    lines = tuple(
        BillLine(SMS_INTL, f"A{chr(65 + i % 26)}", str(100 + i), 1_000 + i, 1, 1_000 + i)
        for i in range(90)
    )
    path = tmp_path / "long.pdf"
    path.write_bytes(bill_pdf(replace(BILL, lines=lines), SHANGHAI))
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, timeout=60)
    pages = re.search(rb"Pages:\s+(\d+)", info.stdout)
    assert pages is not None
    assert int(pages.group(1)) >= 2
    text = pdf_text(path)
    assert "(+189)" in text  # the last line
    assert "CNY 5.42" in text


def test_bill_pdf_is_reproducible() -> None:
    assert bill_pdf(BILL, SHANGHAI) == bill_pdf(BILL, SHANGHAI)


def test_bill_pdf_names_the_font_package(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="fonts-wqy-microhei"):
        bill_pdf(BILL, SHANGHAI, font=tmp_path / "missing.ttc")
