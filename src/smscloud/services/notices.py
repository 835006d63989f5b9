"""Emails to send, queued in the transaction that decided them (the worker's notifier sends)."""

from __future__ import annotations

from sqlalchemy import Connection, insert

from smscloud.notify.mail import Mail
from smscloud.store import schema as s


def queue_email(conn: Connection, tenant_id: int | None, mail: Mail, now: float) -> None:
    """Queue ``mail``, due at once."""
    conn.execute(insert(s.notifications).values(**email_row(tenant_id, mail, now)))


def email_row(tenant_id: int | None, mail: Mail, now: float) -> dict[str, object]:
    """The ``notifications`` row of ``mail``, for callers that insert many at once."""
    return {
        "tenant_id": tenant_id,
        "channel": "email",
        "recipients": "\n".join(mail.to),
        "subject": mail.subject,
        "body": mail.body,
        "state": 0,
        "attempts": 0,
        "next_at": now,
        "created_at": now,
        "error": "",
    }
