"""A real webhook receiver for the tests: an HTTP server on a loopback port, in a thread, that
answers 500 to its first `fail_first` requests and 204 after, and keeps every request it got."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """The receiver's own check, as the README tells integrators to write it."""
        timestamp = self.headers["X-GridWarden-Timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers["X-GridWarden-Signature"], f"sha256={expected}")


class Receiver:
    def __init__(self) -> None:
        self.fail_first = 0
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self.url = ""

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = 500 if len(self.requests) < self.fail_first else 204
            self.requests.append(Received(headers=headers, body=body, answered=status))
            return status

    def delivered(self) -> list[Received]:
        """Requests answered 2xx, in the order they came."""
        with self._lock:
            return [r for r in self.requests if r.answered < 300]


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = receiver.answer(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/gridwarden"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
