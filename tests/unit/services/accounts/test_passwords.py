"""Password hashes: argon2id, with the scrypt hashes of before still accepted."""

from __future__ import annotations

import hashlib
import secrets

from smscloud.services.accounts import passwords


def scrypt_hash(password: str) -> str:
    """A hash in the scrypt format the platform wrote before argon2."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def test_new_hashes_are_argon2id_and_verify() -> None:
    encoded = passwords.hash_password("correct horse")
    assert encoded.startswith("$argon2id$")
    assert passwords.check_password("correct horse", encoded)
    assert not passwords.check_password("correct horsE", encoded)
    assert not passwords.needs_rehash(encoded)


def test_legacy_scrypt_hashes_verify_and_ask_to_be_replaced() -> None:
    encoded = scrypt_hash("correct horse")
    assert passwords.check_password("correct horse", encoded)
    assert not passwords.check_password("wrong", encoded)
    assert passwords.needs_rehash(encoded)


def test_no_account_and_garbage_never_verify() -> None:
    assert not passwords.check_password("anything", None)
    for junk in ("", "scrypt$", "scrypt$zz$yy", "$argon2id$junk", "plain"):
        assert not passwords.check_password("anything", junk)
