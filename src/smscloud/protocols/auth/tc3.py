"""TC3-HMAC-SHA256 (API 3.0 signature v3): sans-IO signing and verification.

Tencent Cloud API 3.0: signature v3 (TC3-HMAC-SHA256) and common request parameters, checked
against what the Tencent Cloud Python and Java SDKs actually send. Nothing here reads a clock
or touches a socket; callers pass ``now`` and the raw request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "Authorization",
    "SignatureError",
    "canonical_request",
    "parse_authorization",
    "sign",
    "signing_key",
    "string_to_sign",
    "utc_date",
    "verify",
]

ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_TERMINATOR = "tc3_request"
_REQUIRED_HEADERS = ("content-type", "host")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Explicit ASCII classes: in str patterns \d and \w would also match non-ASCII digits/letters.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID_RE = re.compile(r"[!-~]+")  # printable ASCII, no spaces; "/" and "," are split off already
_SERVICE_RE = re.compile(r"[A-Za-z0-9._-]+")
_TOKEN_RE = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")  # RFC 9110 tchar, lower-case
_HEX64_RE = re.compile(r"[0-9a-fA-F]{64}")
_FIELDS = ("Credential", "SignedHeaders", "Signature")
# The header exactly as the SDKs write it (one space after each comma, fields in this order,
# lower-case hex): one match instead of a split and five. Anything else takes the lenient path,
# which accepts the same headers and more; a test holds the two to the same answers.
_TCHARS = r"[!#$%&'*+.^_`|~0-9a-z-]+"
_SDK_FORM = re.compile(
    r"TC3-HMAC-SHA256 Credential=([\x21-\x2b\x2d\x2e\x30-\x7e]+)"  # no "," or "/"
    r"/([0-9]{4}-[0-9]{2}-[0-9]{2})/([A-Za-z0-9._-]+)/tc3_request, "
    rf"SignedHeaders=({_TCHARS}(?:;{_TCHARS})*), Signature=([0-9a-f]{{64}})"
)


class SignatureError(Exception):
    """Authentication failure carrying the Tencent error code (Tencent Cloud API 3.0:
    common error codes).

    ``code`` is e.g. ``AuthFailure.InvalidAuthorization``, ``AuthFailure.SignatureFailure``,
    ``AuthFailure.SignatureExpire``, ``MissingParameter`` or ``InvalidParameter``.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Authorization:
    """A parsed ``Authorization`` header; header names lower-case, signature lower-case hex."""

    algorithm: str
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def _invalid(message: str) -> SignatureError:
    return SignatureError("AuthFailure.InvalidAuthorization", message)


def parse_authorization(value: str) -> Authorization:
    """Parse ``TC3-HMAC-SHA256 Credential=.../tc3_request, SignedHeaders=..., Signature=...``.

    Lenient about whitespace and part order, strict about content. Any defect raises
    ``SignatureError("AuthFailure.InvalidAuthorization")`` and nothing else.
    """
    if not isinstance(value, str):
        raise _invalid("Authorization header is not text")
    sdk = _SDK_FORM.fullmatch(value)
    if sdk is not None:
        secret_id, date, service, signed, signature = sdk.groups()
        names = tuple(signed.split(";"))
        if _real_date(date) and len(set(names)) == len(names):
            return Authorization(ALGORITHM, secret_id, date, service, names, signature)
    return _parse_lenient(value)


def _parse_lenient(value: str) -> Authorization:
    head, _, rest = value.strip().partition(" ")
    if head != ALGORITHM:
        raise _invalid(f"unsupported algorithm, expected {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, eq, val = part.strip().partition("=")
        if not eq or key not in _FIELDS:
            raise _invalid(f"unexpected Authorization part {part.strip()[:40]!r}")
        if key in fields:
            raise _invalid(f"duplicate {key}")
        fields[key] = val.strip()
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise _invalid(f"missing {', '.join(missing)}")

    scope = fields["Credential"].split("/")
    if len(scope) != 4 or scope[3] != _TERMINATOR:
        raise _invalid("Credential must be SecretId/YYYY-MM-DD/service/tc3_request")
    secret_id, date, service = scope[0], scope[1], scope[2]
    if not _ID_RE.fullmatch(secret_id):
        raise _invalid("bad SecretId in Credential")
    if not _DATE_RE.fullmatch(date):
        raise _invalid("bad date in Credential")
    if not _real_date(date):
        raise _invalid("bad date in Credential")
    if not _SERVICE_RE.fullmatch(service):
        raise _invalid("bad service in Credential")

    names = tuple(n.lower() for n in fields["SignedHeaders"].split(";"))
    if not all(_TOKEN_RE.fullmatch(n) for n in names):
        raise _invalid("bad SignedHeaders")
    if len(set(names)) != len(names):
        raise _invalid("duplicate name in SignedHeaders")

    signature = fields["Signature"]
    if not _HEX64_RE.fullmatch(signature):
        raise _invalid("Signature must be 64 hex digits")
    return Authorization(ALGORITHM, secret_id, date, service, names, signature.lower())


@functools.lru_cache(maxsize=256)
def _real_date(date: str) -> bool:
    # A handful of dates recur on every request; strptime is the costly part of parsing.
    try:
        datetime.strptime(date, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def utc_date(timestamp: int) -> str:
    """``YYYY-MM-DD`` of a Unix timestamp in UTC (signature v3, step 2: never local time)."""
    return _utc_day(timestamp // 86400)  # a Unix day is 86,400 s: no leap seconds


@functools.lru_cache(maxsize=64)
def _utc_day(days: int) -> str:
    d = _EPOCH + timedelta(days=days)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


@functools.lru_cache(maxsize=4096)
def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request").

    Tencent Cloud API 3.0: signature v3, step 4.
    """
    return _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), _TERMINATOR)


def canonical_request(
    method: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
    *,
    lowercase_values: bool = False,
) -> str:
    """Build the canonical request (signature v3, step 1); the URI is always ``/``.

    ``headers`` is keyed by lower-case name; ``signed_headers`` are lower-case names in the
    order the client listed them (clients sort them; re-sorting here would hide a mismatch).
    Values are stripped; the Python SDK keeps their case, the docs lower-case them
    (``lowercase_values=True``). A missing header raises ``KeyError``.
    """
    lines = []
    for name in signed_headers:
        value = headers[name].strip()
        lines.append(f"{name}:{value.lower() if lowercase_values else value}\n")
    return "\n".join((method, "/", query, "".join(lines), ";".join(signed_headers), payload_hash))


def string_to_sign(timestamp: int, date: str, service: str, canonical: str) -> str:
    """StringToSign (signature v3, step 3).

    The canonical request is hashed as UTF-8; text decoded with ``surrogateescape`` hashes
    back to the exact bytes received.
    """
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/{_TERMINATOR}\n{digest}"


def _payload_hash(body: bytes, unsigned: bool) -> str:
    # Signature v3 (X-TC-Content-SHA256): UNSIGNED-PAYLOAD mode hashes the literal marker
    # instead of the body.
    return hashlib.sha256(UNSIGNED_PAYLOAD.encode() if unsigned else body).hexdigest()


def sign(
    secret_key: str,
    *,
    secret_id: str,
    method: str,
    host: str,
    content_type: str,
    query: str,
    body: bytes,
    timestamp: int,
    service: str,
    extra_headers: Mapping[str, str] | None = None,
    signed_headers: Sequence[str] = ("content-type", "host"),
    unsigned_payload: bool = False,
) -> str:
    """Return the ``Authorization`` header value a client sends, exactly as the Python SDK.

    ``host`` is the Host header (with ``:port``). With ``unsigned_payload`` the caller must
    also send ``X-TC-Content-SHA256: UNSIGNED-PAYLOAD``. Header values are signed as given
    (stripped), like the SDK. Raises ``ValueError`` on an unusable header set.
    """
    headers: dict[str, str] = {"content-type": content_type, "host": host}
    for name, value in (extra_headers or {}).items():
        key = name.lower()
        if key in headers and headers[key] != value:
            raise ValueError(f"header {key} given twice with different values")
        headers[key] = value
    names = sorted({n.lower() for n in signed_headers})
    if not set(_REQUIRED_HEADERS) <= set(names):
        raise ValueError("signed_headers must include content-type and host")
    absent = [n for n in names if n not in headers]
    if absent:
        raise ValueError(f"no value for signed header(s) {', '.join(absent)}")
    date = utc_date(timestamp)
    canonical = canonical_request(
        method, query, headers, names, _payload_hash(body, unsigned_payload)
    )
    sts = string_to_sign(timestamp, date, service, canonical)
    signature = hmac.new(
        signing_key(secret_key, date, service), sts.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{service}/{_TERMINATOR}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )


def verify(
    auth: Authorization,
    secret_key: str,
    *,
    method: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    timestamp: int,
    now: float,
    max_skew: int = 300,
) -> None:
    """Check a TC3 signature over the request as received; raise ``SignatureError`` if bad.

    ``headers`` maps lower-case names to received values; ``query`` is the raw query string
    (never re-encoded or re-sorted: the Java SDK sends HashMap order); ``body`` the raw bytes
    (never re-serialised: clients hash what they send); ``timestamp`` the integer
    ``X-TC-Timestamp``. The service comes from the credential scope, so ``sms``, ``vms`` or an
    endpoint label all verify (the Python SDK signs ``sms``, the Java SDK the endpoint's first
    DNS label).
    """
    if auth.algorithm != ALGORITHM:
        raise _invalid(f"unsupported algorithm, expected {ALGORITHM}")
    missing_required = [h for h in _REQUIRED_HEADERS if h not in auth.signed_headers]
    if missing_required:
        raise _invalid(f"SignedHeaders must include {', '.join(missing_required)}")
    try:
        # "<=" inside "not" so a NaN clock reads as expired rather than as fresh.
        fresh = abs(now - timestamp) <= max_skew
    except OverflowError:  # an absurd integer timestamp cannot even become a float
        fresh = False
    if not fresh:
        raise SignatureError(
            "AuthFailure.SignatureExpire",
            f"X-TC-Timestamp {timestamp} is more than {max_skew}s from server time",
        )
    if auth.date != utc_date(timestamp):
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            "credential date is not the UTC date of X-TC-Timestamp",
        )
    absent = [h for h in auth.signed_headers if h not in headers]
    if absent:
        raise SignatureError(
            "AuthFailure.SignatureFailure", f"signed header(s) not sent: {', '.join(absent)}"
        )

    unsigned = headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD
    payload_hash = _payload_hash(body, unsigned)
    key = signing_key(secret_key, auth.date, auth.service)
    # The SDK signs header values as sent, the docs (362/4208) lower-case them; accept both.
    # The second form is only tried when it differs, so normal requests cost one HMAC.
    forms = [False]
    if any(headers[h].strip() != headers[h].strip().lower() for h in auth.signed_headers):
        forms.append(True)
    # Non-ASCII can only come from a hand-built Authorization; "?" never matches hex.
    expected = auth.signature.lower().encode("ascii", "replace")
    ok = False
    for lowercase in forms:
        canonical = canonical_request(
            method, query, headers, auth.signed_headers, payload_hash, lowercase_values=lowercase
        )
        try:
            sts = string_to_sign(timestamp, auth.date, auth.service, canonical)
        except UnicodeEncodeError:  # a lone surrogate no client could have signed
            continue
        actual = hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()
        ok |= hmac.compare_digest(actual.encode("ascii"), expected)
    if not ok:
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. "
            "Please check your signature is correct.",
        )
