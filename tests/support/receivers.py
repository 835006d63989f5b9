"""Callback receivers that misbehave, on loopback: each answers every request its own way.

A real TCP server in a thread, speaking just enough HTTP/1.1 (keep-alive included) to be a
receiver the pusher meets in the wild: one that drips its answer a byte at a time, one that
answers far too much, one that redirects. Each notes what it received and what happened to
its connections, so tests poll for progress instead of timing it.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Answer = Callable[["RawReceiver", socket.socket], None]


@dataclass
class Seen:
    """One request as it arrived."""

    request_line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RawReceiver:
    """Starts on ``__enter__``; ``answer`` writes the reply to each request's socket."""

    answer: Answer
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    open: int = 0  # connections being answered right now
    closed_by_client: int = 0  # answers cut short by the client hanging up
    bytes_sent: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                with receiver.lock:
                    receiver.connections += 1
                buffer = b""
                while not receiver.stopping.is_set():
                    while b"\r\n\r\n" not in buffer:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    line, *fields = head.decode("latin-1").split("\r\n")
                    headers = {
                        k.strip().lower(): v.strip()
                        for k, _, v in (f.partition(":") for f in fields)
                    }
                    size = int(headers.get("content-length", "0"))
                    while len(buffer) < size:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    body, buffer = buffer[:size], buffer[size:]
                    with receiver.lock:
                        receiver.seen.append(Seen(line, headers, body))
                        receiver.open += 1
                    try:
                        receiver.answer(receiver, sock)
                    except OSError:
                        with receiver.lock:
                            receiver.closed_by_client += 1
                        return
                    finally:
                        with receiver.lock:
                            receiver.open -= 1

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/callback"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RawReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def send(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(data)
        with self.lock:
            self.bytes_sent += len(data)

    @property
    def requests(self) -> int:
        with self.lock:
            return len(self.seen)


def dripping(interval: float) -> Answer:
    """Promises 100,000 bytes, then sends one every ``interval`` seconds until hung up on."""

    def answer(rx: RawReceiver, sock: socket.socket) -> None:
        rx.send(sock, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        rx.send(sock, b"Content-Length: 100000\r\n\r\n")
        while not rx.stopping.wait(interval):
            rx.send(sock, b" ")

    return answer


def answering(status: str, body: bytes, *headers: str) -> Answer:
    """The same whole answer to every request."""
    head = "".join(f"{h}\r\n" for h in (f"Content-Length: {len(body)}", *headers))

    def answer(rx: RawReceiver, sock: socket.socket) -> None:
        rx.send(sock, f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body)

    return answer


def flooding(total: int, prefix: bytes = b'{"result": 0, "pad": "') -> Answer:
    """HTTP 200 with a ``total``-byte JSON body that would be accepted if read whole."""

    def answer(rx: RawReceiver, sock: socket.socket) -> None:
        rx.send(sock, f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        rx.send(sock, prefix)
        left = total - len(prefix) - 2
        chunk = b"x" * 65536
        while left > 0:
            rx.send(sock, chunk[:left])
            left -= min(left, len(chunk))
        rx.send(sock, b'"}')

    return answer


def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds (a deadline, not a
    measurement: on a quiet machine it holds long before)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
