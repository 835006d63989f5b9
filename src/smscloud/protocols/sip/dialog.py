"""What both ends of a call share: dialogs (RFC 3261 §12), responses (§8.2.6), branches.

A dialog is the peer-to-peer relation an INVITE sets up: Call-ID, the two tags, the remote
target (the peer's Contact, §12.1) and the route set (Record-Route: reversed at the caller,
as is at the callee, §12.1.1-§12.1.2). ``Dialog.request`` builds a request inside it (§12.2.1.1):
Request-URI the remote target and Route the route set when the first route is a loose router
(``;lr``, §19.1.1), else the first route as Request-URI and the target last (strict routing).

``respond`` builds a response (§8.2.6.2): Via, From, To, Call-ID and CSeq copied, a To tag
added, Record-Route copied into 18x/2xx to an INVITE (§12.1.1). When the top Via asked for
``rport`` (RFC 3581 §4) the response records where the request really came from.

Branches start with the magic cookie ``z9hG4bK`` (§8.1.1.7) and must be unique in time and
space: here they are a hash of a per-call seed (the Call-ID and our tag, both random) and a
counter, so a call's branches are different from each other and reproducible in tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .headers import format_hostport, name_addr, parse_uri, parse_via, split_list
from .message import REASONS, SipParseError, SipRequest, SipResponse
from .timers import Address

__all__ = ["ALLOW", "MAX_FORWARDS", "Dialog", "branch", "destination", "respond", "via"]

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"  # the methods either end answers (§20.5)
MAGIC_COOKIE = "z9hG4bK"
MAX_FORWARDS = ("Max-Forwards", "70")  # §8.1.1.6


def branch(seed: str, number: int) -> str:
    """The ``number``-th branch of a call whose seed is ``seed`` (§8.1.1.7)."""
    digest = hashlib.sha256(f"{seed}/{number}".encode()).hexdigest()
    return MAGIC_COOKIE + digest[:24]


def via(local: Address, branch_id: str) -> tuple[str, str]:
    """Our Via for a request over UDP, asking for ``rport`` (RFC 3581 §3)."""
    return ("Via", f"SIP/2.0/UDP {format_hostport(*local)};branch={branch_id};rport")


def destination(uri: str) -> Address:
    """Where to send a request for ``uri`` over UDP: its host, port 5060 by default (§19.1.1)."""
    parsed = parse_uri(uri)
    return parsed.host, parsed.port or 5060


def _received(value: str, source: Address) -> str:
    """The top Via of ``value`` with ``received``/``rport`` filled in (RFC 3581 §4)."""
    top, *rest = split_list(value)
    asked = dict(parse_via(top).params)
    if "rport" not in asked or asked["rport"] is not None:
        return value
    head, *params = top.split(";")
    kept = [p for p in params if p.partition("=")[0].strip().lower() not in ("rport", "received")]
    filled = ";".join([head, *kept, f"received={source[0]}", f"rport={source[1]}"])
    return ", ".join([filled, *rest])


def respond(
    request: SipRequest,
    status: int,
    *,
    to_tag: str | None = None,
    source: Address | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    reason: str | None = None,
) -> SipResponse:
    """A response to ``request`` (§8.2.6.2), ``to_tag`` added to To if it has none."""
    out: list[tuple[str, str]] = []
    vias = request.headers_all("Via")
    for n, value in enumerate(vias):
        out.append(("Via", _received(value, source) if n == 0 and source else value))
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = request.header(name) or ""
        if name == "To" and to_tag and name_addr(value).param("tag") is None:
            value = f"{value};tag={to_tag}"
        out.append((name, value))
    if request.method == "INVITE" and 100 < status < 300:
        out += [("Record-Route", v) for v in request.headers_all("Record-Route")]
    out += headers
    return SipResponse(status, reason or REASONS.get(status, ""), tuple(out), body)


def _loose(route: str) -> bool:
    """Whether a Route value names a loose router (``;lr`` in its URI, §19.1.1)."""
    try:
        return any(name == "lr" for name, _ in parse_uri(name_addr(route).uri).params)
    except SipParseError:
        return True  # not a SIP URI: nothing to rewrite the Request-URI with


@dataclass(slots=True)
class Dialog:
    """One end's view of a dialog (§12). ``local``/``remote`` are From/To values with tags."""

    call_id: str
    local: str
    remote: str
    remote_target: str
    route_set: tuple[str, ...]
    local_cseq: int

    @property
    def local_tag(self) -> str | None:
        return name_addr(self.local).param("tag")

    @property
    def remote_tag(self) -> str | None:
        return name_addr(self.remote).param("tag")

    def next_hop(self) -> str:
        """The URI the next request goes to first: the first route, else the target."""
        return name_addr(self.route_set[0]).uri if self.route_set else self.remote_target

    def request(
        self,
        method: str,
        local: Address,
        branch_id: str,
        *,
        cseq: int | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ) -> SipRequest:
        """A request inside the dialog (§12.2.1.1); a new CSeq unless ``cseq`` is given."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        uri, routes = self.remote_target, list(self.route_set)
        if routes and not _loose(routes[0]):  # §12.2.1.1: a strict router
            uri = name_addr(routes[0]).uri
            routes = [*routes[1:], f"<{self.remote_target}>"]
        out = [
            via(local, branch_id),
            MAX_FORWARDS,
            ("From", self.local),
            ("To", self.remote),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            *(("Route", r) for r in routes),
            *headers,
        ]
        return SipRequest(method, uri, tuple(out), body)
