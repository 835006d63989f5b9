"""A real HTTP server on loopback that records what is pushed to it (callback receiver)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Answers ``{"result": 0}`` after ``fail_first`` failures; keeps every JSON body."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[Any] = []
        self.fail_first = fail_first
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with receiver._lock:
                    receiver.requests += 1
                    failing = receiver.requests <= receiver.fail_first
                    if not failing:
                        receiver.bodies.append(body)
                answer = (
                    {"result": 1, "errmsg": "busy"} if failing else {"result": 0, "errmsg": "OK"}
                )
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            return [item for body in self.bodies if isinstance(body, list) for item in body]

    def replies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [body for body in self.bodies if isinstance(body, dict)]
