"""A real server-sent-events client for the tests: reads a stream over HTTP in a thread, as a
browser's EventSource does, and hands over each event (id, type, data) as it arrives."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Sse:
    id: int
    type: str
    data: dict[str, Any]


class StreamReader:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.events: queue.Queue[Sse] = queue.Queue()
        self.comments = 0
        # The server's first frame (`retry:`) comes once it has fixed where the stream starts.
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line.startswith(":"):
                    self.comments += 1
                elif line == "":
                    self.ready.set()
                    if "data" in fields:
                        self.events.put(Sse(id=int(fields["id"]), type=fields["event"], data=json.loads(fields["data"])))
                    fields = {}
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError, ValueError):
            return  # the test closed the connection

    def next(self, timeout: float) -> Sse | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def collect(self, until: Callable[[list[Sse]], bool], *, within: float) -> list[Sse]:
        """Events received until `until(events)` holds, or `within` seconds passed."""
        found: list[Sse] = []
        deadline = time.monotonic() + within
        while not until(found) and (left := deadline - time.monotonic()) > 0:
            if (event := self.next(left)) is not None:
                found.append(event)
        return found

    def quiet_for(self, seconds: float) -> list[Sse]:
        """Whatever arrives within `seconds` (to show that something does not)."""
        return self.collect(lambda _events: False, within=seconds)


@contextmanager
def open_stream(base_url: str, headers: dict[str, str], *, params: dict[str, Any] | None = None,
                last_event_id: int | None = None) -> Iterator[StreamReader]:
    sent = {**headers, "Accept": "text/event-stream"}
    if last_event_id is not None:
        sent["Last-Event-ID"] = str(last_event_id)
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, read=None)) as client, \
            client.stream("GET", "/api/v1/events", headers=sent, params=params) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = StreamReader(response)
        assert reader.ready.wait(10), "the stream sent nothing"
        yield reader
