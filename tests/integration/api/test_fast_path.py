"""The HTTP fast path (``api/fast_path.py``) on real sockets against a running uvicorn.

Two servers. One runs the fast path over a stand-in application and endpoint that say which
way a request came, and an endpoint that can hold a request until the test lets it go: which
requests take the fast path, and the connection's behaviour (keep-alive, ``Connection:
close``, HTTP/1.0, pipelining order, disconnects, graceful shutdown). The other is the real
platform: a signed ``SendSms`` answered the same whether it comes the fast way or through
ASGI.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from smscloud.api.fast_path import FAST_BODY_MAX, fast_path_protocol
from smscloud.api.tc3.endpoint import Endpoint
from smscloud.protocols.auth.tc3 import sign
from tests.support.live import LiveServer, free_port

HOLD = b"hold"  # a body the stand-in endpoint keeps until released


class StandIn(Endpoint):
    """Answers with what it received; a request whose body is HOLD waits for ``release``."""

    def __init__(self) -> None:  # no platform: nothing here reaches one
        self.received: list[bytes] = []
        self.holding = threading.Event()
        self.release = threading.Event()

    async def answer(
        self,
        request_id: str,
        method: str,
        raw_query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> dict[str, Any]:
        self.received.append(body)
        if body == HOLD:
            self.holding.set()
            await asyncio.to_thread(self.release.wait, 30)  # released from the test's thread
        return {"via": "fast", "size": len(body), "host": headers.get("host")}


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """What every request off the fast path gets: how much body it carried."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = json.dumps({"via": "asgi", "size": size, "path": scope["path"]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Server:
    def __init__(self) -> None:
        self.endpoint = StandIn()
        self.port = free_port()
        config = uvicorn.Config(
            asgi_app,
            host="127.0.0.1",
            port=self.port,
            http=fast_path_protocol(self.endpoint),
            lifespan="off",
            loop="asyncio",
            access_log=False,  # as serve runs it
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.endpoint.release.set()
        self.server.should_exit = True
        self.thread.join(30)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)  # a hang guard


@pytest.fixture
def stand_in() -> Iterator[Server]:
    s = Server()
    s.start()
    try:
        yield s
    finally:
        s.stop()


class Reader:
    """Reads HTTP/1.1 answers off a socket, one at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        while True:
            while b"\r\n\r\n" not in self.buffer:
                self._more()
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if status == 100:  # an interim answer (Expect: 100-continue)
                continue
            length = int(headers["content-length"])
            while len(self.buffer) < length:
                self._more()
            body, self.buffer = self.buffer[:length], self.buffer[length:]
            return status, headers, body

    def closed(self) -> bool:
        """Whether the server closed the connection (nothing more comes)."""
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def _more(self) -> None:
        data = self.sock.recv(65536)
        assert data, f"connection closed; had {self.buffer!r}"
        self.buffer += data


def post(body: bytes = b"{}", *, target: str = "/", extra: str = "", version: str = "1.1") -> bytes:
    head = (
        f"POST {target} HTTP/{version}\r\nHost: api.test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def chunked(body: bytes, *, target: str = "/") -> bytes:
    head = (
        f"POST {target} HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    return head.encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def via(sock: socket.socket, request: bytes) -> dict[str, Any]:
    sock.sendall(request)
    status, headers, body = Reader(sock).answer()
    assert status == 200
    assert headers["content-type"] == "application/json"
    answer: dict[str, Any] = json.loads(body)
    return answer


@pytest.mark.parametrize(
    ("request_bytes", "way", "size"),
    [
        (post(b'{"a": 1}'), "fast", 8),
        (post(b""), "fast", 0),
        (post(b"x" * FAST_BODY_MAX), "fast", FAST_BODY_MAX),
        (post(b"x" * (FAST_BODY_MAX + 1)), "asgi", FAST_BODY_MAX + 1),  # counted by BodyLimit
        (chunked(b'{"a": 1}'), "asgi", 8),
        (post(b"{}", target="/?Action=SendSms"), "asgi", 2),  # a query: signature v1's GET form
        (post(b"{}", target="/v5/tlssmssvr/sendsms"), "asgi", 2),
        (post(b"{}", extra="Expect: 100-continue\r\n"), "asgi", 2),
        (b"GET / HTTP/1.1\r\nHost: api.test\r\n\r\n", "asgi", 0),
        (b"POST / HTTP/1.1\r\nHost: api.test\r\n\r\n", "asgi", 0),  # no declared length
    ],
    ids=[
        "plain",
        "empty",
        "largest",
        "over-largest",
        "chunked",
        "query",
        "other-route",
        "expect-continue",
        "get",
        "no-length",
    ],
)
def test_only_a_plain_post_to_root_takes_the_fast_path(
    stand_in: Server, request_bytes: bytes, way: str, size: int
) -> None:
    with stand_in.connect() as sock:
        answer = via(sock, request_bytes)
    assert (answer["via"], answer["size"]) == (way, size)
    if way == "fast":
        assert answer["host"] == "api.test"  # headers arrive keyed by lower-case name


def test_a_body_sent_in_pieces_arrives_whole(stand_in: Server) -> None:
    body = json.dumps({"n": list(range(2000))}).encode()
    request = post(body)
    with stand_in.connect() as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(request), 1000):
            sock.sendall(request[i : i + 1000])
        status, _, answer = Reader(sock).answer()
    assert status == 200 and json.loads(answer) == {
        "via": "fast",
        "size": len(body),
        "host": "api.test",
    }
    assert stand_in.endpoint.received == [body]


def test_a_connection_is_kept_alive_across_requests_of_both_ways(stand_in: Server) -> None:
    with stand_in.connect() as sock:
        reader = Reader(sock)
        ways = []
        for request in (post(), post(), chunked(b"{}"), post()):
            sock.sendall(request)
            status, headers, body = reader.answer()
            assert status == 200 and "connection" not in headers
            assert "date" in headers  # the server's own headers, as on uvicorn's path
            ways.append(json.loads(body)["via"])
    assert ways == ["fast", "fast", "asgi", "fast"]


@pytest.mark.parametrize(
    "request_bytes",
    [post(extra="Connection: close\r\n"), post(version="1.0")],
    ids=["connection-close", "http-1.0"],
)
def test_a_connection_that_asks_to_close_is_closed_after_its_answer(
    stand_in: Server, request_bytes: bytes
) -> None:
    with stand_in.connect() as sock:
        sock.sendall(request_bytes)
        reader = Reader(sock)
        status, headers, body = reader.answer()
        assert status == 200 and json.loads(body)["via"] == "fast"
        assert headers["connection"] == "close"
        assert reader.closed()


def test_pipelined_requests_are_answered_in_order(stand_in: Server) -> None:
    """The first is held; the ones behind it wait for it (RFC 9112 §9.3.2) on uvicorn's queue,
    so they go through ASGI however plain they are."""
    with stand_in.connect() as sock:
        sock.sendall(post(HOLD) + chunked(b"12345") + post(b"123"))
        assert stand_in.endpoint.holding.wait(30)
        stand_in.endpoint.release.set()
        reader = Reader(sock)
        answers = [json.loads(reader.answer()[2]) for _ in range(3)]
    assert [(a["via"], a["size"]) for a in answers] == [("fast", 4), ("asgi", 5), ("asgi", 3)]


def test_a_client_gone_mid_body_reaches_no_endpoint_and_others_go_on(stand_in: Server) -> None:
    with stand_in.connect() as sock:
        sock.sendall(post(b"x" * 1000)[:-500])
    with stand_in.connect() as sock:  # the next connection is served; the cut one never was
        assert via(sock, post(b"after"))["size"] == 5
    assert stand_in.endpoint.received == [b"after"]


def test_a_client_gone_before_its_answer_leaves_the_server_serving(stand_in: Server) -> None:
    with stand_in.connect() as sock:
        sock.sendall(post(HOLD))
        assert stand_in.endpoint.holding.wait(30)
    stand_in.endpoint.release.set()  # the answer has no one to go to
    with stand_in.connect() as sock:
        assert via(sock, post(b"next"))["size"] == 4
    assert stand_in.endpoint.received == [HOLD, b"next"]


def test_a_graceful_shutdown_answers_the_request_in_flight_then_closes(stand_in: Server) -> None:
    with stand_in.connect() as sock:
        sock.sendall(post(HOLD))
        assert stand_in.endpoint.holding.wait(30)
        stand_in.server.should_exit = True
        deadline = time.monotonic() + 30
        while True:  # the listener closes as the shutdown starts
            try:
                socket.create_connection(("127.0.0.1", stand_in.port), timeout=1).close()
            except OSError:
                break
            assert time.monotonic() < deadline, "the server did not begin to shut down"
            time.sleep(0.01)
        stand_in.endpoint.release.set()
        reader = Reader(sock)
        status, headers, body = reader.answer()
        assert status == 200 and json.loads(body)["via"] == "fast"
        assert headers["connection"] == "close"
        assert reader.closed()
    stand_in.thread.join(30)
    assert not stand_in.thread.is_alive()


# -- the real endpoint ---------------------------------------------------------------------


def signed_send(
    live: LiveServer, tenant: Any, phone: str, *, way: str, secret_key: str | None = None
) -> bytes:
    """A ``SendSms`` as the SDK signs it, sent the fast way or chunked (through ASGI)."""
    body = json.dumps(
        {
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": tenant.sdk_app_id,
            "SignName": tenant.sign_name,
            "TemplateId": tenant.template_id,
            "TemplateParamSet": ["1234"],
        }
    ).encode()
    host = live.endpoint
    timestamp = int(time.time())  # the client's clock, as the server measures a request's age
    authorization = sign(
        secret_key or tenant.secret_key,
        secret_id=tenant.secret_id,
        method="POST",
        host=host,
        content_type="application/json",
        query="",
        body=body,
        timestamp=timestamp,
        service="sms",
    )
    head = (
        f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: {authorization}\r\nX-TC-Action: SendSms\r\n"
        f"X-TC-Version: 2021-01-11\r\nX-TC-Timestamp: {timestamp}\r\n"
        "X-TC-Region: ap-guangzhou\r\n"
    )
    if way == "fast":
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (
        len(body),
        body,
    )


def test_the_platform_answers_alike_either_way(server: LiveServer) -> None:
    live = server
    tenant = live.tenant()
    host, port = live.endpoint.split(":")
    statuses = {}
    for way, phone in (("fast", "+8613800000001"), ("asgi", "+8613800000002")):
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(signed_send(live, tenant, phone, way=way))
            status, headers, body = Reader(sock).answer()
        assert status == 200 and headers["content-type"] == "application/json"
        response = json.loads(body)["Response"]
        assert re.fullmatch(r"[0-9a-f-]{36}", response["RequestId"])
        (sent,) = response["SendStatusSet"]
        assert sent["PhoneNumber"] == phone
        statuses[way] = (sent["Code"], sent["Fee"])
        # A request signed with another key is refused the same way on either path.
        bad = signed_send(live, tenant, phone, way=way, secret_key="not-the-key")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(bad)
            error = json.loads(Reader(sock).answer()[2])["Response"]["Error"]
        assert error["Code"] == "AuthFailure.SignatureFailure"
    assert statuses == {"fast": ("Ok", 1), "asgi": ("Ok", 1)}
