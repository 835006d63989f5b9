"""API 3.0 signature v1 (``HmacSHA1`` / ``HmacSHA256``): sans-IO signing and verification.

Tencent Cloud API 3.0: signature v1, as the Tencent Cloud Python SDK builds it
(``_build_req_with_old_signature``, ``Sign.sign``). All parameters, including the common ones,
travel in the query (GET) or a form body (POST); ``params`` here are the decoded
(un-percent-encoded) name/value pairs.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Mapping

from smscloud.protocols.auth.tc3 import SignatureError

__all__ = ["DEFAULT_METHOD", "SIGNATURE_METHODS", "sign", "string_to_sign", "verify"]

_DIGESTS = {"HmacSHA1": "sha1", "HmacSHA256": "sha256"}
SIGNATURE_METHODS = frozenset(_DIGESTS)
# Tencent's common-parameter docs: without SignatureMethod the signature is HmacSHA1.
DEFAULT_METHOD = "HmacSHA1"
_REQUIRED = ("Signature", "SecretId", "Timestamp", "Nonce")
_TIMESTAMP_RE = re.compile(r"[0-9]{1,19}")


def string_to_sign(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """``METHOD + host + path + "?" + k=v&...`` over sorted keys, values unencoded.

    ``Signature`` is excluded. Like the Python SDK (``_format_sign_string``), ``_`` becomes
    ``.`` in key names inside this string only.
    """
    formatted = {k.replace("_", "."): v for k, v in params.items() if k != "Signature"}
    pairs = "&".join(f"{k}={formatted[k]}" for k in sorted(formatted))
    return f"{method}{host}{path}?{pairs}"


def _mac(secret_key: str, message: str, algorithm: str) -> str:
    digest = hmac.new(secret_key.encode("utf-8"), message.encode("utf-8"), _DIGESTS[algorithm])
    return base64.b64encode(digest.digest()).decode("ascii")


def sign(
    secret_key: str,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    algorithm: str = "HmacSHA256",
) -> str:
    """Return the base64 ``Signature`` for ``params`` (send it percent-encoded).

    ``algorithm`` must match ``params["SignatureMethod"]`` (absent means HmacSHA1), or the
    server would verify with a different digest; a mismatch raises ``ValueError``.
    """
    if algorithm not in _DIGESTS:
        raise ValueError(f"unsupported signature method {algorithm!r}")
    declared = params.get("SignatureMethod", DEFAULT_METHOD)
    if declared != algorithm:
        raise ValueError(f"params say SignatureMethod={declared!r} but signing with {algorithm}")
    return _mac(secret_key, string_to_sign(method, host, path, params), algorithm)


def verify(
    secret_key: str,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    *,
    now: float,
    max_skew: int = 300,
) -> None:
    """Check a v1 signature; raise ``tc3.SignatureError`` if bad.

    ``host`` is the received Host header (with port), ``path`` the request path (``/``).
    Codes: a missing/empty Signature, SecretId, Timestamp or Nonce -> ``MissingParameter``;
    SignatureMethod other than HmacSHA1/HmacSHA256 -> ``AuthFailure.InvalidAuthorization``;
    a non-integer Timestamp -> ``InvalidParameter``; skew -> ``AuthFailure.SignatureExpire``;
    mismatch -> ``AuthFailure.SignatureFailure``. Nonce replay is the caller's concern.
    """
    for name in _REQUIRED:
        if not params.get(name):
            raise SignatureError("MissingParameter", f"The parameter `{name}` is missing.")
    algorithm = params.get("SignatureMethod", DEFAULT_METHOD)
    if algorithm not in _DIGESTS:
        # Stricter than a silent HmacSHA1 fallback: an unknown method is a client bug.
        raise SignatureError(
            "AuthFailure.InvalidAuthorization",
            "SignatureMethod must be HmacSHA1 or HmacSHA256",
        )
    raw_ts = params["Timestamp"]
    if not _TIMESTAMP_RE.fullmatch(raw_ts):
        raise SignatureError("InvalidParameter", "Timestamp must be integer Unix seconds")
    timestamp = int(raw_ts)
    if not abs(now - timestamp) <= max_skew:  # "not <=" so a NaN clock counts as expired
        raise SignatureError(
            "AuthFailure.SignatureExpire",
            f"Timestamp {timestamp} is more than {max_skew}s from server time",
        )
    try:
        expected = _mac(secret_key, string_to_sign(method, host, path, params), algorithm)
    except UnicodeEncodeError:  # a lone surrogate in a value: nothing a client could sign
        expected = ""
    # compare_digest on str needs ASCII; "?" can never occur in base64, so it cannot match.
    given = params["Signature"].encode("ascii", "replace")
    if not hmac.compare_digest(expected.encode("ascii"), given):
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. "
            "Please check your signature is correct.",
        )
