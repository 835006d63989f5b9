"""A tenant's notification contacts: add one (a code is sent to it), verify it, choose the
notices it gets, send a new code, delete it; and who gets a notice of a kind.

The rules (codes, kinds, addresses) are ``domain/notice_contacts.py``. Every function is
scoped to the caller's tenant: another tenant's contact id is not found. Codes go out like
every notice, queued in the same transaction: an email through the notifier, an SMS
through the platform's own sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from smscloud.domain.notice_contacts import (
    CODE_LIFETIME,
    EMAIL,
    MAX_CONTACTS,
    NOTICE_KINDS,
    RESEND_AFTER,
    SMS,
    CodeCheck,
    PendingCode,
    check_code,
    code_hash,
    new_code,
    new_salt,
)
from smscloud.notify import messages
from smscloud.services import notices
from smscloud.services.sending import platform_sms
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

__all__ = [
    "Contact",
    "ContactRefusedError",
    "add",
    "contacts",
    "remove",
    "resend",
    "set_kinds",
    "verify",
]

nc = s.notice_contacts


class ContactRefusedError(Exception):
    """A contact that cannot be added: ``reason`` is ``duplicate`` or ``too_many``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    channel: str
    address: str
    kinds: tuple[str, ...]
    verified: bool
    code_sent_at: float  # 0.0 once verified


def _contact(row: Any) -> Contact:
    verified = row.verified_at is not None
    return Contact(
        int(row.id),
        str(row.channel),
        str(row.address),
        tuple(k for k in str(row.kinds).split() if k in NOTICE_KINDS),
        verified,
        0.0 if verified else float(row.code_expires_at) - CODE_LIFETIME,
    )


def contacts(conn: Connection, tenant_id: int) -> list[Contact]:
    """The tenant's contacts, in the order they were added."""
    rows = conn.execute(select(nc).where(nc.c.tenant_id == tenant_id).order_by(nc.c.id))
    return [_contact(row) for row in rows]


def _send_code(
    conn: Connection, tenant_id: int, channel: str, address: str, now: float
) -> dict[str, Any]:
    """Queue a new code to ``address``; the columns that remember it."""
    code, salt = new_code(), new_salt()
    minutes = int(CODE_LIFETIME // 60)
    if channel == EMAIL:
        notices.queue_email(conn, tenant_id, messages.contact_code(code, minutes, [address]), now)
    else:
        platform_sms.queue(conn, [address], messages.contact_code_sms(code, minutes), now)
    return {
        "code_hash": code_hash(code, salt),
        "code_salt": salt,
        "code_expires_at": now + CODE_LIFETIME,
        "code_attempts": 0,
    }


def add(conn: Connection, tenant_id: int, channel: str, address: str, now: float) -> int:
    """Add an unverified contact (``address`` already normalised) choosing every kind, and
    send it its code; its id. Raises ``ContactRefusedError``."""
    if channel not in (EMAIL, SMS):
        raise ValueError(f"channel must be email or sms, got {channel!r}")
    same = select(nc.c.id).where(
        nc.c.tenant_id == tenant_id, nc.c.channel == channel, nc.c.address == address
    )
    if conn.execute(same).first() is not None:
        raise ContactRefusedError("duplicate")
    count = select(func.count()).where(nc.c.tenant_id == tenant_id)
    if int(conn.execute(count).scalar_one()) >= MAX_CONTACTS:
        raise ContactRefusedError("too_many")
    row = {
        "tenant_id": tenant_id,
        "channel": channel,
        "address": address,
        "kinds": " ".join(NOTICE_KINDS),
        "verified_at": None,
        "created_at": now,
    } | _send_code(conn, tenant_id, channel, address, now)
    return inserted_id(conn.execute(insert(nc).values(**row)))


def _owned(conn: Connection, tenant_id: int, contact_id: int) -> Any:
    # Locked on PostgreSQL: two codes typed at once are counted one after the other, so the
    # attempts cannot be overrun (SQLite has one writer at a time anyway).
    return conn.execute(
        select(nc).where(nc.c.id == contact_id, nc.c.tenant_id == tenant_id).with_for_update()
    ).first()


def verify(
    conn: Connection, tenant_id: int, contact_id: int, typed: str, now: float
) -> CodeCheck | None:
    """Check a typed code; a right one verifies the contact, a wrong one counts. None when
    the tenant has no such contact; ``OK`` for one already verified."""
    row = _owned(conn, tenant_id, contact_id)
    if row is None:
        return None
    if row.verified_at is not None:
        return CodeCheck.OK
    pending = PendingCode(
        str(row.code_hash), str(row.code_salt), float(row.code_expires_at), int(row.code_attempts)
    )
    outcome = check_code(pending, typed, now)
    where = nc.c.id == contact_id
    if outcome is CodeCheck.OK:
        done = {"verified_at": now, "code_hash": "", "code_salt": "", "code_attempts": 0}
        conn.execute(update(nc).where(where).values(**done))
    elif outcome is CodeCheck.WRONG:
        conn.execute(update(nc).where(where).values(code_attempts=nc.c.code_attempts + 1))
    return outcome


def resend(conn: Connection, tenant_id: int, contact_id: int, now: float) -> bool | None:
    """Send an unverified contact a new code (the old one stops working): False when the
    last code went out less than ``RESEND_AFTER`` ago, None when there is no such contact
    or it is already verified."""
    row = _owned(conn, tenant_id, contact_id)
    if row is None or row.verified_at is not None:
        return None
    if now < float(row.code_expires_at) - CODE_LIFETIME + RESEND_AFTER:
        return False
    fresh = _send_code(conn, tenant_id, str(row.channel), str(row.address), now)
    conn.execute(update(nc).where(nc.c.id == contact_id).values(**fresh))
    return True


def set_kinds(conn: Connection, tenant_id: int, contact_id: int, kinds: list[str]) -> bool:
    """Choose the notices a contact gets (unknown kinds ignored); False when not found."""
    chosen = " ".join(k for k in NOTICE_KINDS if k in kinds)
    done = conn.execute(
        update(nc).where(nc.c.id == contact_id, nc.c.tenant_id == tenant_id).values(kinds=chosen)
    )
    return bool(done.rowcount)


def remove(conn: Connection, tenant_id: int, contact_id: int) -> bool:
    """Delete a contact; False when the tenant has none by that id."""
    done = conn.execute(delete(nc).where(nc.c.id == contact_id, nc.c.tenant_id == tenant_id))
    return bool(done.rowcount)
