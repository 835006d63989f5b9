"""Notices to tenants, queued in the transaction that decided them: emails (the worker's
notifier sends them) and SMS (messages the platform sends through its own delivery)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from smscloud.notify import messages
from smscloud.notify.mail import Mail
from smscloud.services.sending import platform_sms
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


def review_decided(
    conn: Connection, tenant_id: int, kind: str, name: str, approve: bool, reason: str, now: float
) -> None:
    """Tell a tenant how the review of its identity, signature or template ended: an email to
    its alarm contacts and users, an SMS to its contact phones."""
    t, u = s.tenants, s.tenant_users
    tenant = conn.execute(
        select(t.c.contact_emails, t.c.contact_phones).where(t.c.id == tenant_id)
    ).one()
    users = conn.execute(select(u.c.email).where(u.c.tenant_id == tenant_id).order_by(u.c.id))
    emails = list(dict.fromkeys([*tenant.contact_emails.split(), *users.scalars()]))
    if emails:
        queue_email(
            conn, tenant_id, messages.review_result(kind, name, approve, reason, emails), now
        )
    if phones := tenant.contact_phones.split():
        text = messages.review_result_sms(kind, name, approve, reason)
        platform_sms.queue(conn, phones, text, now)
