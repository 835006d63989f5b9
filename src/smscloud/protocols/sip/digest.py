"""HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617 §3, RFC 8760).

A trunk that wants credentials answers an INVITE with 401 (``WWW-Authenticate``) or 407
(``Proxy-Authenticate``); the caller sends the request again with ``Authorization`` or
``Proxy-Authorization`` computed here. The answering side (our phone simulator) does the
reverse: ``build_challenge`` writes the challenge and ``verify`` checks the credentials.

The response (RFC 2617 §3.2.2.1, with H the algorithm's hash in lower-case hex)::

    HA1 = H(username:realm:password)                  (MD5, SHA-256)
    HA1 = H(H(username:realm:password):nonce:cnonce)  (the -sess variants)
    HA2 = H(method:digest-uri)                        (qop=auth, or no qop)
    HA2 = H(method:digest-uri:H(body))                (qop=auth-int)
    response = H(HA1:nonce:nc:cnonce:qop:HA2)         (with qop)
    response = H(HA1:nonce:HA2)                       (without: RFC 2069 compatibility)

Algorithms are MD5 and MD5-sess (RFC 2617), SHA-256 and SHA-256-sess (RFC 8760 §2, which
brings RFC 7616's names to SIP). The client nonce is passed in so that results are testable.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .message import SipRequest, SipResponse

__all__ = [
    "ALGORITHMS",
    "Challenge",
    "Credentials",
    "DigestClient",
    "DigestError",
    "authorization",
    "build_challenge",
    "choose_challenge",
    "parse_challenge",
    "parse_credentials",
    "verify",
]


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Upper-cased algorithm name -> (hash, session variant) (RFC 8760 §2.1). Which one is used is
# the server's choice: it lists its challenges best first (§2.3), we take the first we know (§2.4).
ALGORITHMS: dict[str, tuple[Callable[[bytes], str], bool]] = {
    "SHA-256": (_sha256, False),
    "SHA-256-SESS": (_sha256, True),
    "MD5": (_md5, False),
    "MD5-SESS": (_md5, True),
}
_CANONICAL = {
    "SHA-256": "SHA-256",
    "SHA-256-SESS": "SHA-256-sess",
    "MD5": "MD5",
    "MD5-SESS": "MD5-sess",
}


class DigestError(ValueError):
    """A challenge or credentials that cannot be read or used."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """One Digest challenge (RFC 2617 §3.2.1). ``qop`` lists the offered protections."""

    realm: str
    nonce: str
    opaque: str | None = None
    qop: tuple[str, ...] = ()
    algorithm: str = "MD5"
    stale: bool = False


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an ``Authorization`` header carries (RFC 2617 §3.2.2)."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    cnonce: str | None = None
    nc: str | None = None
    qop: str | None = None
    opaque: str | None = None


def _auth_params(value: str) -> dict[str, str]:
    """``Digest k=v, k="v", ...`` as a dict with lower-case keys; DigestError if not Digest."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not a Digest header: {value[:40]!r}")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " \t,":
            i += 1
        if i == n:
            break
        eq = rest.find("=", i)
        if eq < 0:
            raise DigestError(f"parameter without '=' in {value[:80]!r}")
        name = rest[i:eq].strip().lower()
        i = eq + 1
        while i < n and rest[i] in " \t":
            i += 1
        if i < n and rest[i] == '"':  # quoted-string with quoted-pairs (RFC 3261 §25.1)
            chars, i = [], i + 1
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(rest[i])
                i += 1
            if i >= n:
                raise DigestError(f"unterminated quoted string in {value[:80]!r}")
            i += 1
            param = "".join(chars)
        else:
            end = rest.find(",", i)
            end = n if end < 0 else end
            param, i = rest[i:end].strip(), end
        if not name or name in params:
            raise DigestError(f"empty or repeated parameter {name!r}")
        params[name] = param
    return params


def _algorithm(name: str) -> str:
    canonical = _CANONICAL.get(name.upper())
    if canonical is None:
        raise DigestError(f"unsupported algorithm {name!r}")
    return canonical


def parse_challenge(value: str) -> Challenge:
    """Read a ``WWW-Authenticate`` or ``Proxy-Authenticate`` value."""
    params = _auth_params(value)
    if "realm" not in params or "nonce" not in params:
        raise DigestError("a challenge needs realm and nonce")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        opaque=params.get("opaque"),
        qop=qop,
        algorithm=_algorithm(params.get("algorithm", "MD5")),
        stale=params.get("stale", "").lower() == "true",
    )


def choose_challenge(values: Sequence[str]) -> Challenge:
    """The first challenge with a supported algorithm (RFC 8760 §2.4), in header order."""
    for value in values:
        try:
            return parse_challenge(value)
        except DigestError:
            continue
    raise DigestError("no usable Digest challenge")


def _response(
    algorithm: str,
    *,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None,
    cnonce: str | None,
    nc: str | None,
    body: bytes,
) -> str:
    h, session = ALGORITHMS[algorithm.upper()]
    ha1 = h(f"{username}:{realm}:{password}".encode())
    if session:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}".encode())
    a2 = f"{method}:{uri}:{h(body)}" if qop == "auth-int" else f"{method}:{uri}"
    ha2 = h(a2.encode())
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}".encode())
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authorization(
    challenge: Challenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str,
    nc: int = 1,
    body: bytes = b"",
) -> str:
    """The ``Authorization``/``Proxy-Authorization`` value answering ``challenge``.

    ``uri`` is the Request-URI (RFC 3261 §22.4: the digest-uri), ``nc`` the number of times
    this nonce has been used, ``body`` the message body (read only for qop=auth-int).
    """
    if not challenge.qop:
        qop = None
    elif "auth" in challenge.qop:
        qop = "auth"
    elif "auth-int" in challenge.qop:
        qop = "auth-int"
    else:
        raise DigestError(f"no supported qop in {challenge.qop}")
    count = f"{nc:08x}"
    response = _response(
        challenge.algorithm,
        username=username,
        password=password,
        realm=challenge.realm,
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        cnonce=cnonce,
        nc=count,
        body=body,
    )
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(challenge.realm)}",
        f"nonce={_quote(challenge.nonce)}",
        f"uri={_quote(uri)}",
        f"response={_quote(response)}",
        f"algorithm={challenge.algorithm}",
    ]
    if qop is not None:  # RFC 2617 §3.2.2: qop and nc are tokens, cnonce is quoted
        parts += [f"cnonce={_quote(cnonce)}", f"qop={qop}", f"nc={count}"]
    if challenge.opaque is not None:
        parts.append(f"opaque={_quote(challenge.opaque)}")
    return "Digest " + ", ".join(parts)


def build_challenge(
    realm: str,
    nonce: str,
    *,
    opaque: str | None = None,
    qop: str | None = "auth",
    algorithm: str = "MD5",
    stale: bool = False,
) -> str:
    """A ``WWW-Authenticate``/``Proxy-Authenticate`` value (RFC 2617 §3.2.1)."""
    parts = [f"realm={_quote(realm)}", f"nonce={_quote(nonce)}"]
    if opaque is not None:
        parts.append(f"opaque={_quote(opaque)}")
    if qop:
        parts.append(f"qop={_quote(qop)}")
    parts.append(f"algorithm={_algorithm(algorithm)}")
    if stale:
        parts.append("stale=TRUE")
    return "Digest " + ", ".join(parts)


def parse_credentials(value: str) -> Credentials:
    """Read an ``Authorization`` or ``Proxy-Authorization`` value."""
    p = _auth_params(value)
    missing = {"username", "realm", "nonce", "uri", "response"} - p.keys()
    if missing:
        raise DigestError(f"credentials lack {sorted(missing)}")
    qop = p.get("qop")
    if qop is not None and ("cnonce" not in p or "nc" not in p):
        raise DigestError("qop needs cnonce and nc")
    return Credentials(
        username=p["username"],
        realm=p["realm"],
        nonce=p["nonce"],
        uri=p["uri"],
        response=p["response"],
        algorithm=_algorithm(p.get("algorithm", "MD5")),
        cnonce=p.get("cnonce"),
        nc=p.get("nc"),
        qop=qop,
        opaque=p.get("opaque"),
    )


def verify(credentials: Credentials, *, password: str, method: str, body: bytes = b"") -> bool:
    """Whether ``credentials`` were computed with ``password`` for this ``method``.

    Realm, nonce and user are the caller's to check against what it issued.
    """
    if credentials.qop not in (None, "auth", "auth-int"):
        return False
    expected = _response(
        credentials.algorithm,
        username=credentials.username,
        password=password,
        realm=credentials.realm,
        nonce=credentials.nonce,
        method=method,
        uri=credentials.uri,
        qop=credentials.qop,
        cnonce=credentials.cnonce,
        nc=credentials.nc,
        body=body,
    )
    return hmac.compare_digest(expected.encode(), credentials.response.lower().encode())


class DigestClient:
    """A caller's credentials, answering 401/407 to its requests (RFC 3261 §22.2, §22.3).

    Each method is answered once: a second challenge to it means the credentials are wrong.
    The nonce count (``nc``) goes up with each use of the same nonce (RFC 2617 §3.2.2).
    """

    def __init__(self, username: str, password: str, cnonce: str) -> None:
        self.username, self.password, self.cnonce = username, password, cnonce
        self._tried: set[str] = set()
        self._uses: dict[str, int] = {}

    def answer(self, response: SipResponse, request: SipRequest) -> tuple[str, str] | None:
        """The header answering ``response`` (401/407) to ``request``, or None if we cannot."""
        if not self.username or request.method in self._tried:
            return None
        self._tried.add(request.method)
        proxy = response.status == 407
        asked = response.headers_all("Proxy-Authenticate" if proxy else "WWW-Authenticate")
        try:
            challenge = choose_challenge(asked)
            uses = self._uses[challenge.nonce] = self._uses.get(challenge.nonce, 0) + 1
            value = authorization(
                challenge,
                username=self.username,
                password=self.password,
                method=request.method,
                uri=request.uri,
                cnonce=self.cnonce,
                nc=uses,
                body=request.body,
            )
        except DigestError:
            return None
        return ("Proxy-Authorization" if proxy else "Authorization", value)
