"""BodyLimit in memory: what reaches the application, what is read, when the connection closes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from smscloud.api.body_limit import BodyLimit, BodyTooLargeError

LIMIT = 1000
DRAIN = 300


@dataclass
class Client:
    """The server side of one request: its body in chunks, what the application sent."""

    chunks: list[bytes]
    read: int = 0  # chunks the server handed over
    sent: list[Message] = field(default_factory=list)

    async def receive(self) -> Message:
        if self.read >= len(self.chunks):
            return {"type": "http.disconnect"}
        self.read += 1
        more = self.read < len(self.chunks)
        return {"type": "http.request", "body": self.chunks[self.read - 1], "more_body": more}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])


def scope(headers: dict[str, str]) -> Scope:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": "POST", "path": "/", "headers": raw}


async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, then answers 200 (413 when it was refused)."""
    total = 0
    try:
        while True:
            message = await receive()
            total += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        status = 200
    except BodyTooLargeError as exc:
        assert exc.limit == LIMIT
        status = 413
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": str(total).encode()})


async def ignoring_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


def run(app: Any, headers: dict[str, str], chunks: list[bytes]) -> Client:
    client = Client(chunks)
    middleware = BodyLimit(app, lambda s: LIMIT, drain=DRAIN)
    asyncio.run(middleware(scope(headers), client.receive, client.send))
    return client


def chunked(size: int, piece: int = 100) -> list[bytes]:
    return [b"x" * min(piece, size - i) for i in range(0, size, piece)] or [b""]


CHUNKED = {"transfer-encoding": "chunked"}


def test_a_body_within_the_limit_reaches_the_application_whole() -> None:
    client = run(reading_app, {"content-length": "1000"}, chunked(1000))
    assert client.sent[0]["status"] == 200 and client.sent[1]["body"] == b"1000"
    assert b"connection" not in client.headers()


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    client = run(reading_app, {"content-length": str(300 * 1024 * 1024)}, chunked(5000))
    assert client.sent[0]["status"] == 413
    assert client.read == 0  # not one byte
    assert client.headers()[b"connection"] == b"close"


def test_a_chunked_body_is_refused_once_past_the_limit_and_never_read_to_its_end() -> None:
    client = run(reading_app, CHUNKED, chunked(300 * 1024 * 1024 // 1000))
    assert client.sent[0]["status"] == 413
    # Read: the limit, then at most the drain allowance (and the piece that crossed each).
    assert client.read * 100 <= LIMIT + DRAIN + 200
    assert client.headers()[b"connection"] == b"close"


def test_a_small_overshoot_is_read_and_dropped_so_the_connection_stays_usable() -> None:
    for headers in ({"content-length": "1200"}, CHUNKED):
        client = run(reading_app, headers, chunked(1200))
        assert client.sent[0]["status"] == 413
        assert client.read == len(client.chunks)  # the rest was read, not handed over
        assert b"connection" not in client.headers()


def test_a_route_that_never_reads_leaves_no_body_behind() -> None:
    client = run(ignoring_app, {"content-length": "200"}, chunked(200))
    assert client.read == 2 and b"connection" not in client.headers()  # read and dropped
    client = run(ignoring_app, CHUNKED, chunked(100_000))
    assert client.read * 100 <= LIMIT + DRAIN + 100
    assert client.headers() == {b"x": b"1", b"connection": b"close"}
    client = run(ignoring_app, {"content-length": "100000"}, chunked(100_000))
    assert client.read == 0 and client.headers()[b"connection"] == b"close"


def test_a_request_without_a_body_is_not_read() -> None:
    client = run(ignoring_app, {}, [b"never"])
    assert client.read == 0 and b"connection" not in client.headers()


def test_after_a_refusal_every_read_is_refused() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(3):
            try:
                await receive()
            except BodyTooLargeError:
                seen.append("refused")
        await ignoring_app(scope, receive, send)

    run(app, {"content-length": "5000"}, chunked(5000))
    assert seen == ["refused"] * 3


@given(
    sizes=st.lists(st.integers(0, 400), max_size=30),
    declared=st.booleans(),
)
@example(sizes=[101, 400, 400, 400, 0], declared=False)  # past the limit before the end
def test_the_application_never_gets_more_than_the_limit(sizes: list[int], declared: bool) -> None:
    chunks = [b"x" * n for n in sizes] or [b""]
    total = sum(sizes)
    handed: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while True:
                message = await receive()
                handed.append(len(message.get("body", b"")))
                if not message.get("more_body", False):
                    break
        except BodyTooLargeError:
            pass
        await ignoring_app(scope, receive, send)

    headers = {"content-length": str(total)} if declared else CHUNKED
    client = run(app, headers, chunks)
    assert sum(handed) <= LIMIT
    assert (sum(handed) == total) == (total <= LIMIT)
    closed = client.headers().get(b"connection") == b"close"
    # Closed exactly when some of the request was never read: a byte of its body, or the
    # final empty message that ends it (past the limit the server stops before it).
    unread = len(chunks) - client.read
    assert closed == (unread > 0)
