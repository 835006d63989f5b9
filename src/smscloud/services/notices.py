"""Notices to tenants, queued in the transaction that decided them: a console message (the
record), emails (the worker's notifier sends them) and SMS (messages the platform sends
through its own delivery).

``tell`` is the one place a notice goes out: to the console's message list, to the account's
own addresses as before (alarm contacts, users), and to every verified notification contact
that chose the notice's kind (``services/notice_contacts.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from smscloud.domain.notice_contacts import EMAIL
from smscloud.notify import messages
from smscloud.notify.mail import Mail
from smscloud.services import inbox
from smscloud.services.sending import platform_sms
from smscloud.store import schema as s

__all__ = ["Notice", "email_row", "queue_email", "review_decided", "subscribed", "tell"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice, in each form it takes: ``kind`` is one of ``NOTICE_KINDS``; ``params``
    are the console message's values; ``mail`` makes the email for its recipients; ``sms``
    is the text message's words."""

    kind: str
    params: dict[str, Any]
    mail: Callable[[Sequence[str]], Mail]
    sms: str


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


def subscribed(conn: Connection, tenant_id: int, kind: str) -> tuple[list[str], list[str]]:
    """(emails, phones) of the tenant's verified contacts that chose ``kind``."""
    nc = s.notice_contacts
    rows = conn.execute(
        select(nc.c.channel, nc.c.address, nc.c.kinds)
        .where(nc.c.tenant_id == tenant_id, nc.c.verified_at.is_not(None))
        .order_by(nc.c.id)
    )
    emails: list[str] = []
    phones: list[str] = []
    for channel, address, kinds in rows:
        if kind in str(kinds).split():
            (emails if channel == EMAIL else phones).append(str(address))
    return emails, phones


def tell(
    conn: Connection,
    tenant_id: int,
    notice: Notice,
    emails: Iterable[str],
    phones: Iterable[str],
    now: float,
) -> int:
    """Send ``notice``: a console message, one email to ``emails`` and the contacts that chose
    its kind, an SMS to ``phones`` and those contacts. Returns how many addresses the email
    went to."""
    inbox.post(conn, tenant_id, notice.kind, notice.params, now)
    contact_emails, contact_phones = subscribed(conn, tenant_id, notice.kind)
    to = list(dict.fromkeys([*emails, *contact_emails]))
    if to:
        queue_email(conn, tenant_id, notice.mail(to), now)
    if numbers := list(dict.fromkeys([*phones, *contact_phones])):
        platform_sms.queue(conn, numbers, notice.sms, now)
    return len(to)


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
    notice = Notice(
        "review",
        {"item": kind, "name": name, "approved": approve, "reason": reason},
        functools.partial(messages.review_result, kind, name, approve, reason),
        messages.review_result_sms(kind, name, approve, reason),
    )
    emails = [*tenant.contact_emails.split(), *users.scalars()]
    tell(conn, tenant_id, notice, emails, tenant.contact_phones.split(), now)
