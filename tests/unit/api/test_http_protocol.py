"""CoalescingTransport: a response's head and body, written in one loop turn, leave as one."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from smscloud.api.http_protocol import CoalescingTransport


class Recording(asyncio.Transport):
    """The socket's side: what reached it, write by write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


async def _turn() -> None:
    await asyncio.sleep(0)


async def _writes_of_one_turn_reach_the_socket_as_one() -> None:
    inner = Recording()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    t.write(b"{}")
    assert inner.writes == [] and t.get_write_buffer_size() == 40
    await _turn()
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    t.write(memoryview(b"next"))  # a later turn: a write of its own
    t.write(b"")  # nothing to send schedules nothing
    await _turn()
    assert inner.writes[1:] == [b"next"]


async def _close_sends_what_is_pending_first_and_abort_drops_it() -> None:
    inner = Recording()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.writelines([b"a", b"b"])
    t.close()
    assert inner.writes == [b"ab"] and inner.events == ["write", "close"]
    await _turn()  # the scheduled flush finds nothing left
    assert inner.writes == [b"ab"]

    inner = Recording()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"lost")
    t.abort()
    await _turn()
    assert inner.writes == [] and inner.events == ["abort"]


async def _nothing_is_written_to_a_closing_socket() -> None:
    inner = Recording()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"late")
    inner.closing = True  # the peer went away meanwhile
    await _turn()
    assert inner.writes == []


async def _over_a_real_socket_the_bytes_arrive_whole_and_in_order() -> None:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
    t = CoalescingTransport(transport, loop)
    chunks = [f"part {i};".encode() for i in range(50)]
    for chunk in chunks:
        t.write(chunk)
    t.close()
    received = b""
    deadline = loop.time() + 10
    while len(received) < len(b"".join(chunks)):
        assert loop.time() < deadline
        try:
            received += theirs.recv(65536)
        except BlockingIOError:
            await asyncio.sleep(0.01)
    theirs.close()
    assert received == b"".join(chunks)


def test_writes_of_one_turn_reach_the_socket_as_one() -> None:
    asyncio.run(_writes_of_one_turn_reach_the_socket_as_one())


def test_close_sends_what_is_pending_first_and_abort_drops_it() -> None:
    asyncio.run(_close_sends_what_is_pending_first_and_abort_drops_it())


def test_nothing_is_written_to_a_closing_socket() -> None:
    asyncio.run(_nothing_is_written_to_a_closing_socket())


def test_over_a_real_socket_the_bytes_arrive_whole_and_in_order() -> None:
    asyncio.run(_over_a_real_socket_the_bytes_arrive_whole_and_in_order())
