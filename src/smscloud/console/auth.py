"""Console security: password hashing, login rate limiting, session keys and idle expiry.

Passwords are ``services.passwords`` (argon2id; older scrypt hashes verify and are replaced
by argon2 on the next good login), hashed and checked in a thread.
Hashing runs in a thread so the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smscloud.private_files import create_once
from smscloud.services import passwords

Clock = Callable[[], float]
IDLE_SECONDS = 2 * 3600  # a session unused this long is over
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


def touch(session: MutableMapping[str, Any], now: float, idle: float = IDLE_SECONDS) -> bool:
    """Whether the signed-in session is still alive; marks it used now. An idle one is
    cleared (the user must log in again)."""
    if "uid" not in session:
        return False
    last = session.get("seen")
    if not isinstance(last, int | float) or now - last > idle:
        session.clear()
        return False
    session["seen"] = now
    return True


def sign_in(session: MutableMapping[str, Any], values: dict[str, Any], now: float) -> None:
    """A fresh session for a user who just proved who they are (new CSRF token too)."""
    session.clear()
    session.update(values)
    session["seen"] = now
    session["csrf"] = secrets.token_urlsafe(32)
