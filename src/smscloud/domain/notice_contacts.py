"""Notification contacts: the kinds of notice a tenant can route, and the verification code
that proves a contact reaches the person it names.

A tenant adds a phone or an email as a contact; the platform sends it a six-digit code, and
the contact receives nothing until that code comes back. The code is kept only as a salted
SHA-256 (a leaked row does not give it away), lives ``CODE_LIFETIME`` seconds and may be
tried ``MAX_ATTEMPTS`` times; after that a new code must be sent. Pure: the caller passes
``now`` and the randomness.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone

__all__ = [
    "CODE_DIGITS",
    "CODE_LIFETIME",
    "EMAIL",
    "MAX_ATTEMPTS",
    "MAX_CONTACTS",
    "NOTICE_KINDS",
    "RESEND_AFTER",
    "SMS",
    "CodeCheck",
    "PendingCode",
    "check_code",
    "code_hash",
    "new_code",
    "new_salt",
    "normalise_address",
]

# What a notice is about; each contact chooses the kinds it receives (Tencent Cloud's message
# subscription groups notices the same way). ``bill`` is a monthly bill issued with its amount
# due; ``arrears`` is that bill still unpaid after its due date (sending is suspended).
NOTICE_KINDS = ("review", "balance", "limit", "bill", "arrears")
EMAIL, SMS = "email", "sms"  # the channels, as in ``notifications.channel``

CODE_DIGITS = 6
CODE_LIFETIME = 600.0  # seconds: ten minutes, as Tencent Cloud's own contact codes
MAX_ATTEMPTS = 5
RESEND_AFTER = 60.0  # seconds between two codes to one contact: no mail bomb by resending
MAX_CONTACTS = 20  # per tenant

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")


class CodeCheck(enum.Enum):
    """The outcome of typing a code."""

    OK = "ok"
    WRONG = "wrong"  # counts as an attempt
    MALFORMED = "malformed"  # not six digits: not counted, nothing to compare
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong attempts: a new code is needed


@dataclass(frozen=True, slots=True)
class PendingCode:
    """A code sent and not yet confirmed, as stored."""

    digest: str
    salt: str
    expires_at: float
    attempts: int


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def code_hash(code: str, salt: str) -> str:
    """The stored form of ``code``: HMAC-SHA256 keyed by the contact's salt, in hex."""
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


def check_code(pending: PendingCode, typed: str, now: float) -> CodeCheck:
    """Whether ``typed`` confirms ``pending`` at ``now``. A spent or expired code is refused
    before it is compared, so guessing after the limit learns nothing."""
    typed = typed.strip()
    if not _CODE.fullmatch(typed):
        return CodeCheck.MALFORMED
    if pending.attempts >= MAX_ATTEMPTS:
        return CodeCheck.EXHAUSTED
    if now >= pending.expires_at:
        return CodeCheck.EXPIRED
    if hmac.compare_digest(code_hash(typed, pending.salt), pending.digest):
        return CodeCheck.OK
    return CodeCheck.WRONG


def normalise_address(channel: str, raw: str) -> str | None:
    """The stored form of a contact address (an email lower-cased, a phone in E.164), or
    None when it is not one."""
    raw = raw.strip()
    if channel == EMAIL:
        address = raw.lower()
        return address if len(address) <= 254 and _EMAIL.match(address) else None
    if channel == SMS:
        if len(raw) > 32:
            return None
        try:
            return parse_phone(raw).e164
        except RuleViolation:
            return None
    return None
