"""Console security: password hashing, the cookie key, and signing a browser in.

Passwords are ``services/accounts/passwords.py`` (argon2id; older scrypt hashes verify and
are replaced by argon2 on the next good login), hashed and checked in a thread so the event
loop never blocks on it. Log-in limits are ``services/accounts/login_gate.py``; sessions are
rows checked on every request (``console/session_guard.py``).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smscloud.private_files import create_once
from smscloud.services.accounts import passwords

MIN_PASSWORD = 10
SECRET_FILE = "console-secret"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    new_hash: str | None = None  # set when the stored hash should be replaced


def verify_password_sync(password: str, encoded: str | None) -> Verdict:
    """Check ``password`` against a stored hash (None: no such account)."""
    if not passwords.check_password(password, encoded):
        return Verdict(False)
    assert encoded is not None
    renew = passwords.needs_rehash(encoded)
    return Verdict(True, passwords.hash_password(password) if renew else None)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(passwords.hash_password, password)


async def verify_password(password: str, encoded: str | None) -> Verdict:
    return await asyncio.to_thread(verify_password_sync, password, encoded)


def load_secret(data_dir: Path) -> str:
    """The key that signs session cookies, made (mode 0600) on first start and kept."""
    path = data_dir / SECRET_FILE
    secret = secrets.token_urlsafe(48)
    if create_once(path, (secret + "\n").encode()):
        return secret
    return path.read_text().strip()


def sign_in(session: MutableMapping[str, Any], values: dict[str, Any], token: str) -> None:
    """A fresh cookie session for a user who just proved who they are: ``values`` (realm, ids,
    name), the server-side session's ``token`` and a new CSRF token."""
    session.clear()
    session.update(values)
    session["sid"] = token
    session["csrf"] = secrets.token_urlsafe(32)
