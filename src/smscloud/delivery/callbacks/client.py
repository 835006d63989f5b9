"""One callback push over HTTP: checked address, total deadline, bounded reply.

Used by the delivery worker's pusher and by the console's test push, so both obey the same
rules:
- The URL is judged again (:func:`smscloud.domain.callback_urls.judge_url`): rules added later
  cover URLs saved earlier.
- The host is resolved here, off the event loop, and *every* address it resolves to must be
  allowed (:func:`smscloud.domain.addresses.blocked`); the connection is then made to exactly
  one of the checked addresses, so a DNS answer that changes between check and connect (DNS
  rebinding) cannot redirect it. ``Host``, TLS SNI and the certificate check keep the name.
- No redirect is followed: a 3xx is a failed push (the next hop would be unchecked).
- One deadline covers resolving, connecting, sending and reading; a receiver that drips its
  answer a byte at a time is cut off when it runs out, not when it stops sending.
- At most ``MAX_REPLY`` bytes of the answer are read; a longer one fails the push and its
  connection is closed unread.

The transport is httpcore (the engine under httpx) with a network backend of our own: the
backend's ``connect_tcp`` is the one place a socket is opened, so the address check cannot be
bypassed by any code path of the client.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import ip_address

import httpcore
import orjson

from smscloud.domain.addresses import NO_NETWORKS, AllowedNetworks, Block, IPAddress, blocked
from smscloud.domain.callback_urls import CallbackUrl, judge_url
from smscloud.domain.errors import RuleViolation

__all__ = [
    "DEADLINE",
    "EXCERPT",
    "MAX_REPLY",
    "BlockedAddress",
    "PushClient",
    "PushOutcome",
    "Resolver",
    "Verdict",
    "system_resolver",
]

DEADLINE = 5.0  # seconds for one push, from resolving the name to the last byte of the answer
MAX_REPLY = 4096  # bytes of the answer read at most; ``{"result": 0, "errmsg": "OK"}`` is 28
EXCERPT = 300  # characters of the answer a tenant is shown by the console's test push
PER_DESTINATION = 4  # connections to one receiving server at once

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host`` from the system resolver, in its order, run off the loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ip_address(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


class BlockedAddress(Exception):  # noqa: N818 (a verdict, not a malfunction)
    """The host resolved to an address callbacks may not reach."""

    def __init__(self, host: str, address: IPAddress, why: Block) -> None:
        super().__init__(host, address, why)
        self.host, self.address, self.why = host, address, why

    def __str__(self) -> str:
        return f"{self.host} resolves to a {self.why} address ({self.address})"


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to checked addresses (see the module's docstring)."""

    def __init__(self, allowed: AllowedNetworks, resolve: Resolver) -> None:
        self.allowed = allowed
        self.resolve = resolve
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:  # all of them: a rebinding answer mixes good and bad
            why = blocked(address, self.allowed)
            if why is not None:
                raise BlockedAddress(host, address, why)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("callbacks do not use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class Verdict(StrEnum):
    """How a push ended."""

    ACCEPTED = "accepted"  # HTTP 200 and {"result": 0} (Tencent status report callback)
    REFUSED = "refused"  # an answer, but not that one
    UNANSWERED = "unanswered"  # no whole answer within the deadline
    BLOCKED = "blocked"  # the URL or its address may not be reached; nothing was sent


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What one push did; ``status`` and ``excerpt`` only when the receiver answered."""

    verdict: Verdict
    reason: str = ""  # why it failed, for logs and the console ("" when accepted)
    status: int | None = None
    excerpt: str = ""  # the start of the answer, at most EXCERPT characters

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPTED

    @property
    def destination_failed(self) -> bool:
        """Whether the receiving server itself is in trouble (back off from it)."""
        if self.verdict is Verdict.REFUSED:
            return self.status is not None and (self.status >= 500 or self.status == 429)
        return self.verdict is not Verdict.ACCEPTED


def _judged(status: int, reply: bytes) -> tuple[Verdict, str]:
    """A complete answer read: accepted only as HTTP 200 with ``{"result": 0}``.

    Tencent SMS docs: status report callback (cloud.tencent.com/document/product/382/59178).
    """
    if 300 <= status < 400:
        return Verdict.REFUSED, f"HTTP {status}: redirects are not followed"
    if status != 200:
        return Verdict.REFUSED, f"HTTP {status}"
    try:
        body = orjson.loads(reply)
    except orjson.JSONDecodeError:
        return Verdict.REFUSED, 'the answer is not JSON {"result": 0}'
    if isinstance(body, dict) and body.get("result") == 0:
        return Verdict.ACCEPTED, ""
    return Verdict.REFUSED, 'the answer is not {"result": 0}'


class PushClient:
    """POSTs callback bodies; one keep-alive pool per destination, so none waits on another."""

    def __init__(
        self,
        allowed: AllowedNetworks = NO_NETWORKS,
        *,
        deadline: float = DEADLINE,
        max_reply: int = MAX_REPLY,
        per_destination: int = PER_DESTINATION,
        resolve: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allowed = allowed
        self.deadline = deadline
        self.max_reply = max_reply
        self.per_destination = per_destination
        self._backend = GuardedBackend(allowed, resolve)
        self._ssl_context = ssl_context
        self._pools: dict[tuple[str, str, int], httpcore.AsyncConnectionPool] = {}

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()

    async def forget(self, destination: tuple[str, str, int]) -> None:
        """Close the idle connections kept for ``destination``."""
        pool = self._pools.pop(destination, None)
        if pool is not None:
            await pool.aclose()

    def _pool(self, url: CallbackUrl) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(url.destination)
        if pool is None:
            pool = self._pools[url.destination] = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context,
                max_connections=self.per_destination,
                keepalive_expiry=30.0,
                network_backend=self._backend,
            )
        return pool

    async def post(self, url: str, body: bytes) -> PushOutcome:
        """POST ``body`` (JSON) to ``url``; never raises for anything the receiver does."""
        try:
            target = judge_url(url, self.allowed)
        except RuleViolation as exc:
            return PushOutcome(Verdict.BLOCKED, exc.message)
        try:
            async with asyncio.timeout(self.deadline):
                return await self._exchange(target, body)
        except BlockedAddress as exc:
            return PushOutcome(Verdict.BLOCKED, f"callback host {exc}: callbacks may not go there")
        except TimeoutError:
            return PushOutcome(Verdict.UNANSWERED, f"no answer within {self.deadline:g} s")
        except (
            httpcore.TimeoutException,
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.UnsupportedProtocol,
            OSError,
        ) as exc:
            return PushOutcome(Verdict.UNANSWERED, f"{type(exc).__name__}: {exc}")

    async def _exchange(self, target: CallbackUrl, body: bytes) -> PushOutcome:
        limit = {"connect": self.deadline, "read": self.deadline, "write": self.deadline}
        async with self._pool(target).stream(
            "POST",
            httpcore.URL(
                scheme=target.scheme, host=target.host, port=target.port, target=target.target
            ),
            headers=[("Host", target.host_header), ("Content-Type", "application/json")],
            content=body,
            extensions={"timeout": limit | {"pool": self.deadline}},
        ) as response:
            reply = bytearray()
            async for chunk in response.aiter_stream():
                reply += chunk
                if len(reply) > self.max_reply:
                    # Leaving the block unread closes the connection (httpcore reuses only a
                    # connection whose answer was read to its end).
                    too_long = f"the answer is longer than {self.max_reply} bytes"
                    status = response.status
                    reason = too_long if status == 200 else _judged(status, b"")[1]
                    return PushOutcome(Verdict.REFUSED, reason, status, _excerpt(reply))
        verdict, reason = _judged(response.status, bytes(reply))
        return PushOutcome(verdict, reason, response.status, _excerpt(reply))


def _excerpt(reply: bytes | bytearray) -> str:
    return bytes(reply[: EXCERPT * 4]).decode("utf-8", "replace")[:EXCERPT]
