"""Reading header values (RFC 3261 §19, §20, §25): URIs, name-addrs, Via, CSeq, tags.

Only what a call needs is read: the parts of a SIP URI (§19.1.1), the URI and parameters of a
name-addr (From, To, Contact, Route, Record-Route: §20.10), the top Via's sent-by and branch
(§20.42), the CSeq number and method (§20.16), and lists folded into one header line with
commas (§7.3.1). Quoted strings and angle brackets are respected wherever a separator is looked
for. Everything malformed raises ``SipParseError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from .message import SipParseError

__all__ = [
    "NameAddr",
    "SipUri",
    "Via",
    "cseq",
    "format_hostport",
    "name_addr",
    "parse_uri",
    "parse_via",
    "split_list",
    "tag_of",
    "uri_user",
]

Params = tuple[tuple[str, str | None], ...]
_CSEQ = re.compile(r"([0-9]{1,10})[ \t]+([A-Za-z0-9.!%*_+`'~-]+)")
_PORT = re.compile(r"[0-9]{1,5}")
_MAX_CSEQ = 2**31 - 1  # §8.1.1.5: less than 2**31


def _split(value: str, separator: str) -> list[str]:
    """``value`` cut at ``separator`` outside quoted strings and <...>."""
    parts: list[str] = []
    start, quoted, angle, i = 0, False, False, 0
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1  # §25.1 quoted-pair: the next character is literal
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            angle = True
        elif c == ">":
            angle = False
        elif c == separator and not angle:
            parts.append(value[start:i])
            start = i + 1
        i += 1
    if quoted or angle:
        raise SipParseError(f"unterminated quote or angle bracket in {value[:80]!r}")
    parts.append(value[start:])
    return parts


def _unquoted_index(value: str, char: str) -> int:
    """Where ``char`` first occurs outside a quoted string, or -1."""
    quoted, escaped = False, False
    for i, c in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            return i
    return -1


def split_list(value: str) -> list[str]:
    """The comma-separated elements of one header line (§7.3.1), stripped."""
    return [p.strip() for p in _split(value, ",") if p.strip()]


def _params(parts: list[str]) -> Params:
    out = []
    for part in parts:
        name, eq, val = part.partition("=")
        if not name.strip():
            raise SipParseError(f"empty parameter name in {part!r}")
        out.append((name.strip().lower(), val.strip() if eq else None))
    return tuple(out)


def _param(params: Params, name: str) -> str | None:
    return next((v for n, v in params if n == name), None)


def format_hostport(host: str, port: int | None = None) -> str:
    """``host[:port]`` as written in a URI or Via, an IPv6 address in brackets (§19.1.1)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return shown if port is None else f"{shown}:{port}"


def _hostport(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not host:
            raise SipParseError(f"bad IPv6 reference {text!r}")
    else:
        host, colon, port = text.partition(":")
        rest = colon + port
    if not host:
        raise SipParseError(f"no host in {text!r}")
    if not rest:
        return host, None
    if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]) or int(rest[1:]) > 65535:
        raise SipParseError(f"bad port in {text!r}")
    return host, int(rest[1:])


@dataclass(frozen=True, slots=True)
class SipUri:
    """A SIP or SIPS URI (§19.1.1): ``user`` is unescaped, ``port`` None when absent."""

    scheme: str
    user: str
    host: str
    port: int | None
    params: Params

    def param(self, name: str) -> str | None:
        return _param(self.params, name.lower())


def parse_uri(uri: str) -> SipUri:
    """The parts of a ``sip:`` or ``sips:`` URI (headers after ``?`` are dropped)."""
    scheme, colon, rest = uri.partition(":")
    if not colon or scheme.lower() not in ("sip", "sips"):
        raise SipParseError(f"not a SIP URI: {uri[:80]!r}")
    userinfo, at, hostpart = rest.partition("@")  # §19.1.1: '@' is escaped in the user part
    if not at:
        userinfo, hostpart = "", rest
    hostpart = hostpart.partition("?")[0]
    hostport, *params = hostpart.split(";")
    host, port = _hostport(hostport)
    user = unquote(userinfo.partition(":")[0])  # §19.1.1: a password follows ':'
    return SipUri(scheme.lower(), user, host, port, _params(params))


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (the number, for a phone), or a ``tel:`` URI's number."""
    if uri[:4].lower() == "tel:":  # RFC 3966: tel:+8613800138000;phone-context=...
        return unquote(uri[4:].partition(";")[0])
    return parse_uri(uri).user


@dataclass(frozen=True, slots=True)
class NameAddr:
    """From, To, Contact, Route or Record-Route (§20.10): display name, URI, parameters."""

    display: str
    uri: str
    params: Params

    def param(self, name: str) -> str | None:
        return _param(self.params, name.lower())


def name_addr(value: str) -> NameAddr:
    """Read a name-addr or addr-spec; parameters after it belong to the header (§20.10)."""
    value = value.strip()
    lt = _unquoted_index(_split(value, ";")[0], "<")
    if lt >= 0:
        uri, bracket, after = value[lt + 1 :].partition(">")
        if not bracket:
            raise SipParseError(f"no closing '>' in {value[:80]!r}")
        params = _split(after, ";")
        if params[0].strip():
            raise SipParseError(f"text after '>' in {value[:80]!r}")
        display = value[:lt].strip()
        if display.startswith('"') and display.endswith('"') and len(display) > 1:
            display = re.sub(r"\\(.)", r"\1", display[1:-1])  # §25.1 quoted-pair
        return NameAddr(display, uri.strip(), _params(params[1:]))
    uri, *params = _split(value, ";")  # §20.10: without <>, ';' starts header parameters
    if not uri.strip():
        raise SipParseError(f"no URI in {value[:80]!r}")
    return NameAddr("", uri.strip(), _params(params))


def tag_of(value: str) -> str | None:
    """The ``tag`` parameter of a From or To value (§19.3), or None."""
    return name_addr(value).param("tag")


@dataclass(frozen=True, slots=True)
class Via:
    """One Via entry (§20.42): transport, sent-by host and port, parameters."""

    transport: str
    host: str
    port: int | None
    params: Params

    def param(self, name: str) -> str | None:
        return _param(self.params, name.lower())

    @property
    def branch(self) -> str | None:
        return self.param("branch")


def parse_via(value: str) -> Via:
    """The first Via entry of a header value (several may be folded with commas)."""
    entries = split_list(value)  # "," alone folds no entry at all
    first, *params = _split(entries[0] if entries else "", ";")
    protocol, _, sent_by = first.strip().partition(" ")
    name, version, transport = ([*protocol.split("/"), "", ""])[:3]
    if name.upper() != "SIP" or version != "2.0" or not transport or not sent_by.strip():
        raise SipParseError(f"bad Via {value[:80]!r}")
    host, port = _hostport(sent_by.strip())
    return Via(transport.upper(), host, port, _params(params))


def cseq(value: str) -> tuple[int, str]:
    """(sequence number, method) of a CSeq value (§20.16)."""
    match = _CSEQ.fullmatch(value.strip())
    if match is None or int(match[1]) > _MAX_CSEQ:
        raise SipParseError(f"bad CSeq {value[:80]!r}")
    return int(match[1]), match[2]
