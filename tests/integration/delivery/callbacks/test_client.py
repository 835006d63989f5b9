"""One push against real receivers on loopback: checked addresses, deadline, bounded answer."""

from __future__ import annotations

import asyncio
import socket
from ipaddress import IPv4Address, ip_address

import pytest
from bench.receiver import CallbackReceiver

from smscloud.delivery.callbacks.client import MAX_REPLY, PushClient, PushOutcome, Verdict
from smscloud.domain.addresses import NO_NETWORKS, AllowedNetworks, IPAddress
from tests.support.receivers import RawReceiver, answering, dripping, flooding, until

LOOPBACK = AllowedNetworks.parse("127.0.0.0/8")
BODY = b'[{"sid": "test"}]'


def push(
    url: str,
    allowed: AllowedNetworks = LOOPBACK,
    answers: dict[str, list[str]] | None = None,
    deadline: float = 10.0,
) -> PushOutcome:
    """POST through a fresh client; ``answers`` stands in for DNS where given."""

    async def resolve(host: str, port: int) -> list[IPAddress]:
        assert answers is not None
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(a) for a in answers[host]]

    async def run() -> PushOutcome:
        if answers is None:
            client = PushClient(allowed, deadline=deadline)
        else:
            client = PushClient(allowed, deadline=deadline, resolve=resolve)
        try:
            return await client.post(url, BODY)
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_an_accepting_receiver_is_accepted() -> None:
    with CallbackReceiver() as rx:
        out = push(rx.url)
    assert out.verdict is Verdict.ACCEPTED and out.status == 200
    assert '"result": 0' in out.excerpt
    assert rx.bodies == [[{"sid": "test"}]]


def test_an_address_literal_in_a_blocked_network_is_never_connected() -> None:
    with RawReceiver(answering("200 OK", b'{"result": 0, "secret": "metadata"}')) as rx:
        out = push(f"http://127.0.0.1:{rx.port}/cb", NO_NETWORKS)
    assert out.verdict is Verdict.BLOCKED and "loopback address (127.0.0.1)" in out.reason
    assert (out.status, out.excerpt) == (None, "")
    assert rx.requests == 0


def test_the_resolved_address_is_checked_and_is_the_one_connected_to() -> None:
    """A name is checked by what it resolves to at connect time (a rebinding DNS answers
    differently when the URL is saved), and the request keeps the name in ``Host``."""
    with RawReceiver(answering("200 OK", b'{"result": 0}')) as rx:
        url = f"http://receiver.example:{rx.port}/cb"
        to_loopback = {"receiver.example": ["127.0.0.1"]}
        out = push(url, NO_NETWORKS, to_loopback)
        assert out.verdict is Verdict.BLOCKED
        assert "receiver.example resolves to a loopback address (127.0.0.1)" in out.reason
        assert rx.requests == 0
        # One good address among bad ones is still a rebinding answer: refused.
        mixed = {"receiver.example": ["93.184.215.14", "169.254.169.254"]}
        assert push(url, NO_NETWORKS, mixed).verdict is Verdict.BLOCKED
        # Where the operator allows the network, the push goes to exactly that address.
        out = push(url, LOOPBACK, to_loopback)
        assert out.verdict is Verdict.ACCEPTED
        assert rx.requests == 1 and rx.seen[0].headers["host"] == f"receiver.example:{rx.port}"
        assert rx.seen[0].request_line == "POST /cb HTTP/1.1"
        unknown = push(f"http://nowhere.example:{rx.port}/", LOOPBACK, {})
        assert unknown.verdict is Verdict.UNANSWERED and "cannot resolve" in unknown.reason


def test_the_system_resolver_is_checked_too() -> None:
    name = socket.gethostname()
    try:
        found = {ip_address(i[4][0]) for i in socket.getaddrinfo(name, 80, socket.AF_INET)}
    except OSError:
        pytest.skip("the machine's own name does not resolve here")
    if found != {IPv4Address("127.0.0.1")}:
        pytest.skip("the machine's own name does not resolve to 127.0.0.1 here")
    with CallbackReceiver() as rx:
        url = f"http://{name}:{rx.url.rsplit(':', 1)[1]}"
        out = push(url, NO_NETWORKS)
        assert out.verdict is Verdict.BLOCKED and "loopback" in out.reason
        assert rx.requests == 0
        assert push(url, LOOPBACK).verdict is Verdict.ACCEPTED and rx.requests == 1


def test_redirects_are_not_followed() -> None:
    with RawReceiver(answering("200 OK", b'{"result": 0}')) as inside:
        moved = answering("307 Temporary Redirect", b"", f"Location: {inside.url}")
        with RawReceiver(moved) as rx:
            out = push(rx.url)
        assert out.verdict is Verdict.REFUSED and out.status == 307
        assert "redirects are not followed" in out.reason and not out.destination_failed
        assert inside.requests == 0


def test_a_dripping_answer_is_cut_off_at_the_deadline() -> None:
    with RawReceiver(dripping(0.1)) as rx:
        out = push(rx.url, deadline=0.5)
        assert out.verdict is Verdict.UNANSWERED and "no answer within 0.5 s" in out.reason
        assert out.destination_failed
        until(lambda: rx.closed_by_client == 1)


def test_at_most_a_few_kilobytes_of_an_answer_are_read() -> None:
    total = 64 * 1024 * 1024
    with RawReceiver(flooding(total)) as rx:
        out = push(rx.url)
        assert out.verdict is Verdict.REFUSED and out.status == 200
        assert f"longer than {MAX_REPLY} bytes" in out.reason
        assert len(out.excerpt) <= 300 and out.excerpt.startswith('{"result": 0, "pad": "xx')
        until(lambda: rx.closed_by_client == 1)  # hung up on, not read to the end
        assert rx.bytes_sent < total


@pytest.mark.parametrize(
    ("status", "body", "reason", "destination_failed"),
    [
        ("200 OK", b'{"result": 1, "errmsg": "busy"}', 'not {"result": 0}', False),
        ("200 OK", b"<html>ok</html>", "not JSON", False),
        ("404 Not Found", b"", "HTTP 404", False),
        ("429 Too Many Requests", b"", "HTTP 429", True),
        ("503 Service Unavailable", b"", "HTTP 503", True),
    ],
)
def test_anything_but_result_0_is_refused(
    status: str, body: bytes, reason: str, destination_failed: bool
) -> None:
    with RawReceiver(answering(status, body, "Content-Type: application/json")) as rx:
        out = push(rx.url)
    assert out.verdict is Verdict.REFUSED and reason in out.reason
    assert out.status == int(status.split()[0]) and out.excerpt == body.decode()
    assert out.destination_failed is destination_failed


def test_connections_are_kept_alive_per_destination() -> None:
    with RawReceiver(answering("200 OK", b'{"result": 0}')) as rx:

        async def run() -> list[PushOutcome]:
            client = PushClient(LOOPBACK)
            try:
                return [await client.post(rx.url, BODY) for _ in range(3)]
            finally:
                await client.aclose()

        assert all(o.accepted for o in asyncio.run(run()))
        assert (rx.requests, rx.connections) == (3, 1)
