"""Callback URLs a tenant may save, and the exact request target they stand for.

A URL is judged when it is saved (API, console, CLI) and again before every push, so rules
added later cover URLs saved earlier. Judging is strict where parsers disagree, because a
URL that one parser reads as ``example.com`` and another as ``127.0.0.1`` is an attack:
- only ``http`` and ``https``;
- no user name or password (``http://example.com@127.0.0.1/`` is a classic disguise), no
  backslash (WHATWG URL parsers read it as ``/``, RFC 3986 ones do not), no space or control
  character anywhere;
- a host that ends in a number is an IPv4 address to browsers and to ``inet_aton``
  (WHATWG URL Standard §3.5, "ends in a number"): ``2130706433``, ``0x7f.1``, ``0177.0.0.1``
  and ``127.1`` all reach 127.0.0.1. Such a host must be written as four plain decimal
  numbers, and that address is then judged;
- IP literals are judged by :func:`smscloud.domain.addresses.blocked`; ``localhost`` and
  ``*.localhost`` are loopback by definition (RFC 6761 §6.3) and judged as 127.0.0.1;
- one trailing dot is the same name (RFC 1034 §3.1) and is dropped.
Other names cannot be judged without DNS: the pusher resolves them at connect time and checks
every address it gets (see ``smscloud.delivery.callbacks.client``).

The result carries the pieces the HTTP client is handed one by one (scheme, host, port,
target), so what was judged is what is connected to: there is no second parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from urllib.parse import quote, urlsplit

from smscloud.domain.addresses import NO_NETWORKS, AllowedNetworks, IPAddress, blocked
from smscloud.domain.errors import RuleViolation

__all__ = ["MAX_URL_LENGTH", "CallbackUrl", "judge_url"]

MAX_URL_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_NAME = IPv4Address("127.0.0.1")
_BRACKETED = re.compile(r"\[(?P<literal>[^\[\]]*)\](?::(?P<port>[0-9]*))?")
_NAMED = re.compile(r"(?P<name>[^:\[\]]*)(?::(?P<port>[0-9]*))?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")
# Everything printable in ASCII stays as written; only other characters are percent-encoded.
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


@dataclass(frozen=True, slots=True)
class CallbackUrl:
    """A judged callback URL: where to connect and what to ask for."""

    scheme: str  # "http" or "https"
    host: str  # lower-case ASCII name (IDNA) or an IP address in canonical text
    port: int
    target: str  # path and query, at least "/"
    address: IPAddress | None  # when the host is an IP literal

    @property
    def destination(self) -> tuple[str, str, int]:
        """What pushes are isolated by: one receiving server."""
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        """The ``Host`` header (RFC 9110 §7.2): the name as written, the port if not default."""
        host = f"[{self.host}]" if isinstance(self.address, IPv6Address) else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.target}"


def _refuse(why: str) -> RuleViolation:
    return RuleViolation("InvalidParameterValue", f"callback URL {why}")


def _judge_address(address: IPAddress, allowed: AllowedNetworks) -> None:
    why = blocked(address, allowed)
    if why is not None:
        raise _refuse(
            f"points to a {why} address ({address}), which callbacks may not reach;"
            " use a public address or host name"
        )


def _port(raw: str | None, scheme: str) -> int:
    if raw is None:
        return DEFAULT_PORTS[scheme]
    if not raw or len(raw) > 5 or not 1 <= int(raw) <= 65535:
        raise _refuse("has an invalid port (1-65535)")
    return int(raw)


def _name(raw: str) -> str:
    """A host name as lower-case ASCII, or a refusal."""
    name = raw[:-1] if raw.endswith(".") else raw
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refuse(f"has an invalid host name: {raw}") from None
    name = name.lower()
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse(f"has an invalid host name: {raw}")
    return name


def judge_url(url: str, allowed: AllowedNetworks = NO_NETWORKS) -> CallbackUrl:
    """The callback URL as it will be pushed to, or a :class:`RuleViolation` saying why not."""
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url) or "\\" in url:
        raise _refuse("must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:  # urllib refuses unbalanced or malformed [brackets]
        raise _refuse(f"has an invalid host: {url}") from None
    if parts.scheme not in DEFAULT_PORTS or not url.lower().startswith(parts.scheme + "://"):
        raise _refuse(f"must start with http:// or https://: {url}")
    if "@" in parts.netloc:
        raise _refuse("must not contain a user name or password (user@host)")
    bracketed = _BRACKETED.fullmatch(parts.netloc)
    named = None if bracketed else _NAMED.fullmatch(parts.netloc)
    if bracketed is None and named is None:
        raise _refuse(f"has an invalid host: {parts.netloc}")
    address: IPAddress | None = None
    if bracketed is not None:
        literal = bracketed["literal"]
        if "%" in literal:
            raise _refuse("must not name a network interface (a zone such as %25eth0)")
        try:
            address = IPv6Address(literal)
        except ValueError:
            raise _refuse(f"has an invalid IPv6 address: [{literal}]") from None
        host, port = str(address), _port(bracketed["port"], parts.scheme)
    else:
        assert named is not None
        if not named["name"]:
            raise _refuse(f"has no host: {url}")
        host, port = _name(named["name"]), _port(named["port"], parts.scheme)
        if _NUMBER.fullmatch(host.rsplit(".", 1)[-1]):
            try:
                address = IPv4Address(host)
            except ValueError:
                raise _refuse(
                    f"writes an IPv4 address in an unusual form ({named['name']});"
                    " write it as four decimal numbers such as 203.0.113.7"
                ) from None
    if address is not None:
        _judge_address(address, allowed)
    elif host == "localhost" or host.endswith(".localhost"):
        _judge_address(LOOPBACK_NAME, allowed)
    target = quote(parts.path or "/", safe=_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_SAFE)
    return CallbackUrl(parts.scheme, host, port, target, address)
