"""The HTTP fast path: a plain signed ``POST /`` answered straight from the HTTP parser.

Nearly every request under load is an API 3.0 call: ``POST /`` with a small JSON body. Through
ASGI each one builds a scope, a request-response cycle with its event, a message for every
receive and send, and passes the proxy-header, error, body-limit and API layers before the
endpoint: about a sixth of the API process's CPU under the anchors harness (py-spy,
bench/README.md). Here the protocol collects such a request itself, hands it whole to the
same :class:`Endpoint` the ASGI application uses, and writes the answer in one piece.

Only the plain case takes this path: ``POST /`` with no query, a ``Content-Length`` of at most
:data:`FAST_BODY_MAX` and no ``Transfer-Encoding`` (so no body limit can be passed), no
``Expect: 100-continue``, no upgrade, no earlier request of the connection still being
answered (pipelined requests keep their order on uvicorn's own queue), and a server with no
concurrency limit or root path. Every other request goes through ASGI as before.
Keep-alive, ``Connection: close``, HTTP/1.0, write back-pressure, graceful shutdown and the
access log behave as on uvicorn's own path (RFC 9112 §9).
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

import orjson

from smscloud.api.http_protocol import OneWriteHttpProtocol
from smscloud.api.tc3 import envelope
from smscloud.api.tc3.endpoint import Endpoint
from smscloud.random_ids import request_id as new_request_id

__all__ = ["FAST_BODY_MAX", "FastPathProtocol", "fast_path_protocol"]

log = logging.getLogger(__name__)
# A 200-number SendSms is ~4 KB; larger bodies (up to the API's 1 MB and 10 MB) take the
# ASGI path, where they are counted against their limits as they arrive.
FAST_BODY_MAX = 64 * 1024
_HEAD_200 = b"HTTP/1.1 200 OK\r\n"
_TYPE_AND_LENGTH = b"content-type: application/json\r\ncontent-length: %d\r\n"


class _NoEvent:
    """What uvicorn's protocol sets on a lost connection; nothing here waits on it."""

    def set(self) -> None:
        pass


_NO_EVENT = _NoEvent()


class _Exchange:
    """One fast-path request; it has every field uvicorn's protocol touches on its cycle."""

    __slots__ = (
        "body",
        "disconnected",
        "headers",
        "http_version",
        "keep_alive",
        "response_complete",
    )
    message_event = _NO_EVENT

    def __init__(
        self, headers: list[tuple[bytes, bytes]], http_version: str, keep_alive: bool
    ) -> None:
        self.headers = headers
        self.http_version = http_version
        self.keep_alive = keep_alive
        self.body = bytearray()
        self.disconnected = False
        self.response_complete = False


def _plain_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The one declared ``Content-Length`` if it is at most FAST_BODY_MAX and the body has no
    transfer coding; else None."""
    length = None
    for name, value in headers:
        if name == b"content-length":
            if length is not None or not value.isdigit() or len(value) > 6:
                return None
            length = int(value)
        elif name == b"transfer-encoding":
            return None
    return length if length is not None and length <= FAST_BODY_MAX else None


class FastPathProtocol(OneWriteHttpProtocol):
    """uvicorn's protocol (one write per answer) answering plain ``POST /`` itself."""

    endpoint: ClassVar[Endpoint]

    def on_headers_complete(self) -> None:
        cycle = self.cycle
        if (
            self.url == b"/"
            and not self.expect_100_continue
            and (cycle is None or cycle.response_complete)
            and self.parser.get_method() == b"POST"
            and not self.parser.should_upgrade()
            and self.limit_concurrency is None
            and not self.root_path
            and _plain_length(self.headers) is not None
        ):
            version = self.parser.get_http_version()
            keep_alive = version != "1.0" and self.parser.should_keep_alive()  # as uvicorn's
            self.cycle = _Exchange(self.headers, version, keep_alive)  # type: ignore[assignment]
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        exchange: object = self.cycle  # an _Exchange in place of uvicorn's cycle, or its own
        if isinstance(exchange, _Exchange):
            exchange.body += body  # at most FAST_BODY_MAX: the parser stops at the length
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        exchange: object = self.cycle
        if isinstance(exchange, _Exchange):
            task = self.loop.create_task(self._answer(exchange))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)  # graceful shutdown waits for it
            return
        super().on_message_complete()

    async def _answer(self, exchange: _Exchange) -> None:
        request_id = new_request_id()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in exchange.headers}
        try:
            body = bytes(exchange.body)
            answer = await self.endpoint.answer(request_id, "POST", "", headers, body)
            payload = orjson.dumps(answer)
        except asyncio.CancelledError:  # a shutdown that stopped waiting: no answer comes
            self.transport.close()
            raise
        except Exception:  # a bug in rendering: the endpoint itself answers every error
            log.exception("request %s failed", request_id)
            payload = orjson.dumps(envelope.internal_error(request_id))
        if self.flow.write_paused and not exchange.disconnected:
            await self.flow.drain()  # a client not reading its answers is not sent more
        if exchange.disconnected:
            return
        if self.access_log:  # uvicorn's own line
            client = "%s:%d" % self.client if self.client else "-"  # noqa: UP031
            version = exchange.http_version
            self.access_logger.info('%s - "POST / HTTP/%s" %d', client, version, 200)
        head = [_HEAD_200]
        for name, value in self.server_state.default_headers:  # date, server
            head += (name, b": ", value, b"\r\n")
        head.append(_TYPE_AND_LENGTH % len(payload))
        if not exchange.keep_alive:  # HTTP/1.0, "Connection: close", or shutting down
            head.append(b"connection: close\r\n")
        head += (b"\r\n", payload)
        self.transport.write(b"".join(head))
        exchange.response_complete = True
        if not exchange.keep_alive:
            self.transport.close()
        self.on_response_complete()  # starts a pipelined request, or the keep-alive timer


def fast_path_protocol(endpoint: Endpoint) -> type[FastPathProtocol]:
    """The protocol class to give uvicorn (``http=``), answering through ``endpoint``."""

    class Protocol(FastPathProtocol):
        pass

    Protocol.endpoint = endpoint
    return Protocol
