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


# A serial's 28 digits: the acceptance time in milliseconds (13 digits), then 15 random ones.
# Time first makes serials grow with time, so the unique index on them is written at its right
# edge: a fully random serial lands on a random leaf page, and once the table outgrows a
# commit every accepted message rewrites a page of its own (4 KiB of WAL on SQLite, a full-page
# image after each PostgreSQL checkpoint). 15 random digits (about 50 bits) keep serials of one
# millisecond apart and unguessable; the unique constraint still guards them.
_TIME_DIGITS = 13
_RANDOM_DIGITS = 28 - _TIME_DIGITS


def _millis(now: float) -> str:
    """``now`` in milliseconds as 13 digits (a clock before 1970 or after 2286 wraps)."""
    return f"{int(now * 1000) % 10**_TIME_DIGITS:0{_TIME_DIGITS}d}"


def new_serial_no(now: float) -> str:
    """A delivery serial in Tencent's shape, ``5000:`` and 28 digits, for a message of ``now``."""
    return f"5000:{_millis(now)}{serial_digits(_RANDOM_DIGITS)}"


def new_serial_nos(count: int, now: float) -> list[str]:
    """``count`` delivery serials for messages accepted at ``now``, drawn together."""
    head = f"5000:{_millis(now)}"
    return [head + d for d in serial_digits_many(_RANDOM_DIGITS, count)]


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
