"""Password hashes: argon2id for every new one; ``scrypt$`` hashes written before still verify
(and ``needs_rehash`` says to replace them at the next good log-in)."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
LEGACY = "scrypt$"


@functools.cache
def _dummy_hash() -> str:
    """Checked against when there is no account, so an unknown name costs as much as a wrong
    password. Made on first use, not at import: a hash takes argon2's 64 MiB for a moment,
    and every process imports this module, most of them (the worker, the simulator, the
    operator's commands) never to check a password."""
    return _hasher.hash(secrets.token_hex(8))


def hash_password(password: str) -> str:
    """A new argon2id hash (about 0.1 s: call it off the event loop)."""
    return _hasher.hash(password)


def check_password(password: str, encoded: str | None) -> bool:
    """Whether ``password`` matches ``encoded``; None (no such account) costs a check too."""
    if encoded is None:
        _check_argon2(password, _dummy_hash())
        return False
    if encoded.startswith(LEGACY):
        return _check_scrypt(password, encoded)
    return _check_argon2(password, encoded)


def needs_rehash(encoded: str) -> bool:
    """Whether a hash that just verified should be replaced by a new one."""
    return encoded.startswith(LEGACY) or _hasher.check_needs_rehash(encoded)


def _check_argon2(password: str, encoded: str) -> bool:
    try:
        return _hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_scrypt(password: str, encoded: str) -> bool:
    try:
        _, salt, digest = encoded.split("$")
        actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    except ValueError:
        return False
    return secrets.compare_digest(actual.hex(), digest)
