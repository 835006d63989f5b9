"""SIP messages (RFC 3261 §7): one UDP datagram in, a frozen value out, and back to bytes.

A message is ``SipRequest(method, uri, headers, body)`` or ``SipResponse(status, reason,
headers, body)``. Headers are an ordered tuple of ``(name, value)`` pairs as they stood on the
wire, because order carries meaning (§7.3.1: Via and Route are read top down); ``header()`` and
``headers_all()`` look names up without regard to case (§7.3.1), and compact names (§7.3.3:
``v``, ``f``, ``t``, ``i``, ``m``, ``l``, ``c``...) are expanded to full names on parse.

Content-Length is framing, not content: ``parse`` consumes it and ``serialize`` writes it from
the body, so it never appears in ``headers``. Over UDP (§18.3) a body longer than the
Content-Length is cut to it, a shorter one makes the message malformed, and without the header
the body runs to the end of the datagram.

Anything malformed raises :class:`SipParseError` (a ``ValueError``) and nothing else, so a
transport can catch that one error and drop the datagram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "COMPACT_NAMES",
    "REASONS",
    "SipMessage",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "parse",
]

# §7.3.3 (and §20: Content-Encoding, Subject, Supported have compact forms too).
COMPACT_NAMES = {
    "c": "Content-Type",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "s": "Subject",
    "t": "To",
    "v": "Via",
}

# Reason phrases of the statuses this package sends (§21).
REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
}

_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")  # §25.1 token
_STATUS = re.compile(r"[1-6][0-9][0-9]")  # §7.2: 100 to 699
_DIGITS = re.compile(r"[0-9]{1,9}")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_LINE_BREAK = re.compile(r"\r?\n")
_VERSION = "SIP/2.0"
_LWS = " \t"
_CONTENT_LENGTH = "content-length"

Headers = tuple[tuple[str, str], ...]


class SipParseError(ValueError):
    """A datagram that is not a well-formed SIP message (RFC 3261 §7, §25)."""


def _key(name: str) -> str:
    """The lower-case full name that ``name`` (full or compact) stands for."""
    lower = name.lower()
    return COMPACT_NAMES[lower].lower() if lower in COMPACT_NAMES else lower


def _check_headers(headers: Headers) -> None:
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not a token")
        if name.lower() in COMPACT_NAMES:
            raise ValueError(f"write {COMPACT_NAMES[name.lower()]!r}, not its compact form")
        if _key(name) == _CONTENT_LENGTH:
            raise ValueError("Content-Length is computed from the body")
        if "\r" in value or "\n" in value or value != value.strip(_LWS):
            raise ValueError(f"header {name} has line breaks or surrounding whitespace")


class _Message:
    """Header lookups and serialization shared by requests and responses."""

    __slots__ = ()
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case, full or compact), or None."""
        key = _key(name)
        return next((v for n, v in self.headers if _key(n) == key), None)

    def headers_all(self, name: str) -> list[str]:
        """Every value of header ``name``, top to bottom (one per header line)."""
        key = _key(name)
        return [v for n, v in self.headers if _key(n) == key]

    def start_line(self) -> str:
        raise NotImplementedError

    def serialize(self) -> bytes:
        """The message as one datagram: CRLF line ends, Content-Length from the body."""
        lines = [self.start_line(), *(f"{n}: {v}" for n, v in self.headers)]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True, slots=True)
class SipRequest(_Message):
    """A request (§7.1): ``method`` is a token, ``uri`` the Request-URI."""

    method: str
    uri: str
    headers: Headers = ()
    body: bytes = b""

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.method):
            raise ValueError(f"method {self.method!r} is not a token")
        if not self.uri or any(c in self.uri for c in " \t\r\n"):
            raise ValueError(f"Request-URI {self.uri!r} is empty or has whitespace")
        _check_headers(self.headers)

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {_VERSION}"


@dataclass(frozen=True, slots=True)
class SipResponse(_Message):
    """A response (§7.2): ``status`` 100-699 and its reason phrase."""

    status: int
    reason: str
    headers: Headers = ()
    body: bytes = b""

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 699:
            raise ValueError(f"status {self.status} is outside 100-699")
        if "\r" in self.reason or "\n" in self.reason:
            raise ValueError("reason phrase has a line break")
        _check_headers(self.headers)

    def start_line(self) -> str:
        return f"{_VERSION} {self.status} {self.reason}"


SipMessage = SipRequest | SipResponse


def parse(datagram: bytes) -> SipMessage:
    """The message in one UDP datagram; raises SipParseError if it is malformed."""
    data = datagram.lstrip(b"\r\n")  # §7.5: CRLFs before the start line are ignored
    end = _BLANK_LINE.search(data)
    if end is None:
        raise SipParseError("no empty line after the headers")
    try:
        head = data[: end.start()].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    lines = _LINE_BREAK.split(head)
    headers, length = _parse_headers(lines[1:])
    body = data[end.end() :]
    if length is not None:
        if len(body) < length:  # §18.3: a short body over UDP is an error
            raise SipParseError(f"body has {len(body)} octets, Content-Length says {length}")
        body = body[:length]  # §18.3: octets past Content-Length are discarded
    try:
        return _start(lines[0], headers, body)
    except SipParseError:
        raise
    except ValueError as exc:
        raise SipParseError(str(exc)) from exc


def _start(line: str, headers: Headers, body: bytes) -> SipMessage:
    if line[:8].upper() == _VERSION + " ":
        code, _, reason = line[8:].partition(" ")
        if not _STATUS.fullmatch(code):
            raise SipParseError(f"bad status code {code!r}")
        return SipResponse(int(code), reason, headers, body)
    parts = line.split(" ")
    if len(parts) != 3 or parts[2].upper() != _VERSION:
        raise SipParseError(f"bad start line {line[:80]!r}")
    return SipRequest(parts[0], parts[1], headers, body)


def _parse_headers(lines: list[str]) -> tuple[Headers, int | None]:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):  # §7.3.1: a continuation line, folded with one SP
            if not unfolded:
                raise SipParseError("continuation line before any header")
            unfolded[-1] = unfolded[-1].rstrip(_LWS) + " " + line.strip(_LWS)
        else:
            unfolded.append(line)
    headers: list[tuple[str, str]] = []
    length: int | None = None
    for line in unfolded:
        name, colon, value = line.partition(":")
        name, value = name.rstrip(_LWS), value.strip(_LWS)
        if not colon or not _TOKEN.fullmatch(name):
            raise SipParseError(f"bad header line {line[:80]!r}")
        name = COMPACT_NAMES.get(name.lower(), name)
        if _key(name) == _CONTENT_LENGTH:
            if length is not None or not _DIGITS.fullmatch(value):
                raise SipParseError(f"bad or repeated Content-Length {value!r}")
            length = int(value)
        else:
            headers.append((name, value))
    return tuple(headers), length
