"""Statements on ``messages`` that several layers share: the insert, serials, "now reported".

ACCEPT (``services/sending/accept.py``) and the platform's own SMS
(``services/sending/platform_sms.py``) insert with one statement; delivery and task
cancellation mark a message's final state due to pulls and to its status callback the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column

from smscloud.random_ids import serial_digits, serial_digits_many

_COLUMNS = (
    "serial_no, request_id, tenant_id, app_id, phone, nation_code, iso_code, international, "
    "sign_name, template_id, sms_type, content, content_key, parts, debits, session_context, "
    "extend_code, sender_id, state, request_code, created_at, task_id"
)
# Columns left out take their defaults: attempts 0, carrier '', receipt_code '', report 0.
INSERT_MESSAGES = (
    f"INSERT INTO messages ({_COLUMNS}, refunded, attempts, carrier, receipt_code, report_state)"
    f" VALUES ({', '.join('?' * 22)}, FALSE, 0, '', '', 0)"
)


def new_serial_no() -> str:
    """A delivery serial in Tencent's shape: ``5000:`` and 28 digits."""
    return f"5000:{serial_digits(28)}"


def new_serial_nos(count: int) -> list[str]:
    """``count`` delivery serials, drawn together (a batch's numbers, one draw)."""
    return [f"5000:{d}" for d in serial_digits_many(28, count)]


# Set with every final state: due for a push when the application has a status callback URL.
# A subquery by primary key, so the flag costs no extra statement.
_WANTED = (
    "COALESCE((SELECT 1 FROM applications a WHERE a.id = messages.app_id"
    " AND a.status_callback_url <> ''), 0)"
)
CALLBACK_DUE_IF_WANTED = f"callback_state = {_WANTED}, callback_next_at = ?"


def reported(now: float) -> dict[str, Any]:
    """Column values that make a message's final state due to pulls and to its callback."""
    return {
        "report_state": 1,
        "callback_state": literal_column(_WANTED),
        "callback_next_at": now,
    }
