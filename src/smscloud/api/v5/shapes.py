"""Service results in the v5 API's field names.

The v5 pulls return reports and replies in the shape of the pushed callbacks (Tencent SMS
callbacks, status report and reply), and its statistics under their own short names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smscloud.services.reports import RECEIPT_TEXT, Reply, StatusReport
from smscloud.services.statistics import CallbackCounts, SendCounts


def status_report(r: StatusReport, tz: ZoneInfo) -> dict[str, Any]:
    """A pulled report in the status callback's shape, as the v5 pulls return it."""
    received = r.received_at
    return {
        "user_receive_time": (
            datetime.fromtimestamp(received, tz).strftime("%Y-%m-%d %H:%M:%S") if received else ""
        ),
        "nationcode": r.nation_code,
        "mobile": r.subscriber,
        "report_status": "SUCCESS" if r.delivered else "FAIL",
        "errmsg": r.description,
        "description": RECEIPT_TEXT.get(r.description, r.description),
        "sid": r.serial_no,
    }


def reply(r: Reply) -> dict[str, Any]:
    """A pulled reply in the reply callback's shape."""
    return {
        "extend": r.extend_code,
        "mobile": r.subscriber,
        "nationcode": r.nation_code,
        "sign": r.sign_name,
        "text": r.content,
        "time": r.replied_at,
    }


def send_counts(c: SendCounts) -> dict[str, int]:
    """The ``data`` of ``pullsendstatus``."""
    return {"bill_number": c.fee, "request": c.requests, "success": c.accepted}


def callback_counts(c: CallbackCounts) -> dict[str, int]:
    """The ``data`` of ``pullcallbackstatus``: failures numbered by cause."""
    return {
        "success": c.accepted,
        "status": c.receipts,
        "status_success": c.delivered,
        "status_fail": c.failed,
        "status_fail_0": c.internal_errors,
        "status_fail_1": c.invalid_numbers,
        "status_fail_2": c.shutdowns,
        "status_fail_3": c.blacklisted,
        "status_fail_4": c.frequency_limited,
    }
