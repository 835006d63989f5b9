"""Console security: password hashing, login rate limiting, session keys and idle expiry.

Passwords are ``services.passwords`` (argon2id; older scrypt hashes verify and are replaced
by argon2 on the next good login), hashed and checked in a thread.
Hashing runs in a thread so the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import deque
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smscloud.clock import Clock, system_clock
from smscloud.services import passwords

IDLE_SECONDS = 2 * 3600  # a session unused this long is over
MAX_FAILURES = 5  # failed logins per email and IP ...
FAILURE_WINDOW = 15 * 60  # ... within this many seconds, then refused until they age out
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
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        secret = secrets.token_urlsafe(48)
        out.write(secret + "\n")
    return secret


@dataclass
class RateLimiter:
    """Failed logins per key (email + IP); a key with ``limit`` failures in ``window`` seconds
    is refused until the oldest of them ages out."""

    limit: int = MAX_FAILURES
    window: float = FAILURE_WINDOW
    clock: Clock = system_clock
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self.clock()
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def blocked(self, email: str, ip: str) -> bool:
        return len(self._recent((email.lower(), ip))) >= self.limit

    def fail(self, email: str, ip: str) -> None:
        key = (email.lower(), ip)
        times = self._recent(key)
        times.append(self.clock())
        self._failures[key] = times
        if len(self._failures) > 100_000:  # bound memory under a flood of distinct keys
            self._failures.pop(next(iter(self._failures)))

    def reset(self, email: str, ip: str) -> None:
        self._failures.pop((email.lower(), ip), None)


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
