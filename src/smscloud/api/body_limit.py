"""Request bodies bounded as they arrive, on every route of the process.

Theory of operation. The server hands the application a request body in pieces as they
arrive (ASGI ``http.request`` messages); reading them all before looking at the size lets a
single request take as much memory as it likes. :class:`BodyLimit` wraps the whole
application and stands between it and the server:

1. Before anything is read, a policy chooses the request's limit from its path, method and
   headers (each surface has its own: the API's is Tencent's, the console's depends on the
   form). A declared ``Content-Length`` over the limit is refused on the first read, with
   nothing read; a body without one (chunked) is counted as it arrives and refused as soon
   as the count passes the limit. Refusing raises :class:`BodyTooLargeError` into the
   application, which answers in its own format: nothing past the limit ever reaches it.
2. When the answer starts while the body has not been read to its end (refused, or a route
   that never reads bodies), what is left is read and dropped if the body ends within
   ``drain`` bytes past the limit (most clients read the answer only after sending the
   whole body, and would otherwise see a reset instead of it), else the answer carries
   ``Connection: close`` and the server closes the connection after it, so the rest of the
   body is never read (RFC 9112 §9.6). A server that keeps such a connection open would have
   to read all of it to find the next request.

Starlette's own ``max_body_size`` counts the same way but replaces the answer to every
request that declared too long a body with a plain-text 413, which Tencent's SDKs cannot
read: they expect HTTP 200 and an ``Error`` envelope (Tencent Cloud API 3.0:
response structure).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smscloud.domain.integers import parse_int

__all__ = ["DRAIN", "BodyLimit", "BodyTooLargeError", "Policy"]

DRAIN = 1024 * 1024  # leftover a polite server still reads to let its answer be seen
Policy = Callable[[Scope], int]


class BodyTooLargeError(Exception):
    """The request body passed ``limit`` bytes; nothing past the limit was handed over."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


class _Body:
    """What has been received of one request's body."""

    def __init__(self, scope: Scope, limit: int) -> None:
        headers = Headers(scope=scope)
        raw_length = headers.get("content-length")
        # The HTTP parser refuses a malformed Content-Length; None means "not declared".
        self.declared = parse_int(raw_length.strip()) if raw_length is not None else None
        self.limit = limit
        self.received = 0
        # RFC 9112 §6.3: without Content-Length or Transfer-Encoding there is no body.
        self.complete = self.declared == 0 or (
            self.declared is None and "transfer-encoding" not in headers
        )
        self.refused = False

    def take(self, message: Message) -> None:
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        else:  # http.disconnect: nothing more will come
            self.complete = True

    def over(self) -> bool:
        declared_over = self.declared is not None and self.declared > self.limit
        return declared_over or self.received > self.limit


class BodyLimit:
    """Pure ASGI middleware bounding every request body by ``policy(scope)`` bytes."""

    def __init__(self, app: ASGIApp, policy: Policy, drain: int = DRAIN) -> None:
        self.app = app
        self.policy = policy
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _Body(scope, self.policy(scope))

        async def bounded_receive() -> Message:
            if body.refused or body.over():
                body.refused = True
                raise BodyTooLargeError(body.limit)
            message = await receive()
            body.take(message)
            if body.over():
                body.refused = True
                raise BodyTooLargeError(body.limit)
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not body.complete:
                await self._drop_leftover(body, receive)
                if not body.complete:
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                    ]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, bounded_receive, closing_send)

    async def _drop_leftover(self, body: _Body, receive: Receive) -> None:
        """Read and drop the rest of the body while it stays within ``drain`` bytes past
        the limit."""
        most = body.limit + self.drain
        if body.declared is not None and body.declared > most:
            return  # too much is coming: read none of it
        while not body.complete and body.received <= most:
            body.take(await receive())
