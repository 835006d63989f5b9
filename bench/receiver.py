"""A status- and reply-callback receiver on loopback, for the bench and the tests.

It answers ``{"result": 0}`` (after refusing the first ``fail_first`` pushes with
``{"result": 1}``, to exercise retries), keeps every accepted JSON body, counts the reports in
pushed arrays and notes when the last one came.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CallbackReceiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.requests = 0  # every push, refused ones included
        self.pushes = 0  # pushes answered with success
        self.reports = 0  # reports in those pushes (a reply push counts one)
        self.bodies: list[Any] = []
        self.last_at = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the platform's pusher pools

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver._lock:
                    receiver.requests += 1
                    refused = receiver.requests <= receiver.fail_first
                    if not refused:
                        receiver.pushes += 1
                        receiver.reports += len(body) if isinstance(body, list) else 1
                        receiver.bodies.append(body)
                        receiver.last_at = time.time()
                data = json.dumps(
                    {"result": 1, "errmsg": "busy"} if refused else {"result": 0, "errmsg": "OK"}
                ).encode()
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

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def statuses(self) -> list[dict[str, Any]]:
        """Every status report received (they come in arrays)."""
        with self._lock:
            return [item for body in self.bodies if isinstance(body, list) for item in body]

    def replies(self) -> list[dict[str, Any]]:
        """Every reply received (one object per push)."""
        with self._lock:
            return [body for body in self.bodies if isinstance(body, dict)]

    def wait_for(self, count: int, timeout: float) -> float | None:
        """When the ``count``-th report arrived (Unix time), or None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.reports >= count:
                    return self.last_at
            time.sleep(0.02)
        return None
