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


def test_importing_the_module_hashes_nothing() -> None:
    """Every process imports this module; most (the worker, the simulator, the operator's
    commands) never check a password and must not pay argon2's 64 MiB for it (peak RSS)."""
    import subprocess
    import sys

    probe = (  # VmHWM: this process's own peak (ru_maxrss keeps the parent's across exec)
        "import re; from smscloud.services.accounts import passwords;"
        " status = open('/proc/self/status').read();"
        " print(passwords._dummy_hash.cache_info().currsize,"
        " re.search(r'VmHWM:\\s+(\\d+)', status)[1])"
    )
    made, peak_kib = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert made == "0"
    assert int(peak_kib) < 60 * 1024  # argon2's 64 MiB alone would pass it
    assert not passwords.check_password("anything", None)  # the dummy is made when needed
    assert passwords._dummy_hash.cache_info().currsize == 1
