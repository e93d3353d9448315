"""The console's live feed: one poller per API process, any number of server-sent-event streams.

Why one poller: a stream must not hold a database connection while it waits, and a hundred
consoles must not mean a hundred queries every half second. The `EventHub` of a process polls only
while at least one stream is open: it publishes committed events (`relay.publish`, so the console
does not wait for the worker's relay) and reads the new ones, one short unit of work each
`stream_poll_s`, then hands each event to every open stream, which keeps those its audience admits.

A stream opened after position N first reads N+1... from the database page by page (a reconnect,
or `?after=0` for the retained history), then continues with what the hub hands it, skipping what
it already sent: positions are gap-free, so nothing is missed or repeated.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.database import unit_of_work
from core.errors import ServiceUnavailable
from core.events import feed, relay
from core.events.feed import Audience, PublishedEvent
from core.events.settings import EventSettings

log = logging.getLogger(__name__)
QUEUE_LIMIT = 10_000  # events waiting for one slow stream; beyond it the stream re-reads from the database
RECONNECT_MS = 2000  # the client's reconnection delay (`retry:`)


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[PublishedEvent] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    lagged: bool = False

    def offer(self, event: PublishedEvent) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagged = True  # the stream catches up from the database


class EventHub:
    """The poller of one API process (one event loop)."""

    def __init__(self, session_factory: sessionmaker[Session], settings: EventSettings) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.loop = asyncio.get_running_loop()
        self._subscribers: set[_Subscriber] = set()
        self._poller: asyncio.Task[None] | None = None
        self._head: int | None = None

    def _subscribe(self) -> _Subscriber:
        if len(self._subscribers) >= self.settings.max_streams_per_process:
            raise ServiceUnavailable("This server has as many open event streams as it serves; retry shortly.",
                                     service="events", reason="streams_full")
        subscriber = _Subscriber()
        self._subscribers.add(subscriber)
        if self._poller is None or self._poller.done():
            self._poller = self.loop.create_task(self._poll_while_watched())
        return subscriber

    async def _poll_while_watched(self) -> None:
        while self._subscribers:
            try:
                events = await anyio.to_thread.run_sync(self._poll)
            except (ServiceUnavailable, SQLAlchemyError) as exc:  # the streams stay open; the next poll retries
                log.warning("event poll failed (%s); retrying", exc.__class__.__name__)
                events = []
            for event in events:
                for subscriber in tuple(self._subscribers):
                    subscriber.offer(event)
            if len(events) < self.settings.stream_page:
                await asyncio.sleep(self.settings.stream_poll_s)
        self._head = None  # nobody listens: the next stream starts the reading afresh

    def _poll(self) -> list[PublishedEvent]:
        with unit_of_work(self.session_factory) as db:
            relay.publish(db=db, now=datetime.now(UTC), limit=self.settings.relay_batch)
        with unit_of_work(self.session_factory) as db:
            if self._head is None:
                self._head = feed.head_position(db=db)
                return []
            events = feed.published_after(db=db, after=self._head, limit=self.settings.stream_page)
        if events:
            self._head = events[-1].position
        return events

    def _read(self, after: int | None) -> tuple[int, list[PublishedEvent]]:
        with unit_of_work(self.session_factory) as db:
            if after is None:
                return feed.head_position(db=db), []
            return after, feed.published_after(db=db, after=after, limit=self.settings.stream_page)

    async def stream(self, *, audience: Audience, after: int | None, open_for_s: float) -> AsyncIterator[str]:
        """Server-sent events for one console after position `after` (None: from now on), ending
        after `open_for_s` (when the caller's token expires) or `stream_max_s`; the client reconnects.

        `last` is the last position this stream has passed (sent, or not for this audience).
        Positions have no holes, so whenever what the hub hands over does not start at `last + 1`
        (the stream opened while the hub was starting, or it fell behind) the stream reads the
        missing stretch from the database instead."""
        subscriber = self._subscribe()  # before reading the backlog: nothing falls between the two
        deadline = self.loop.time() + min(open_for_s, self.settings.stream_max_s)
        try:
            last, page = await anyio.to_thread.run_sync(self._read, after)
            yield f"retry: {RECONNECT_MS}\n\n"  # the first frame: the starting point is fixed
            while True:
                for event in page:
                    if audience.admits(event):
                        yield _frame(event)
                    last = event.position
                if page and len(page) == self.settings.stream_page:
                    last, page = await anyio.to_thread.run_sync(self._read, last)  # more history to catch up
                    continue
                live = await self._next_live(subscriber, after=last, deadline=deadline)
                if live is None:
                    return
                if isinstance(live, list):
                    page = live
                elif live == _HEARTBEAT:
                    yield ": keep-alive\n\n"
                    page = []
                else:  # _BEHIND
                    last, page = await anyio.to_thread.run_sync(self._read, last)
                    if not page:  # the hub's view is not in the database (yet): no tight loop of reads
                        await asyncio.sleep(self.settings.stream_poll_s)
        finally:
            self._subscribers.discard(subscriber)

    async def _next_live(self, subscriber: _Subscriber, *, after: int, deadline: float
                         ) -> list[PublishedEvent] | str | None:
        """The next live events, continuing exactly after `after`; `_BEHIND` when the stream must
        read from the database first; `_HEARTBEAT` after a quiet heartbeat interval; None when the
        stream's time is up."""
        quiet_until = self.loop.time() + self.settings.stream_heartbeat_s
        while True:
            now = self.loop.time()
            if now >= deadline:
                return None
            if now >= quiet_until:
                return _HEARTBEAT
            if subscriber.lagged or (self._head is not None and self._head > after and subscriber.queue.empty()):
                subscriber.lagged = False
                _drain(subscriber.queue)
                return _BEHIND
            try:
                async with asyncio.timeout(min(self.settings.stream_poll_s, deadline - now, quiet_until - now)):
                    first = await subscriber.queue.get()
            except TimeoutError:
                continue
            events = [first, *_drain(subscriber.queue)]
            fresh = [event for event in events if event.position > after]
            if not fresh:
                continue
            if fresh[0].position != after + 1:
                return _BEHIND
            return fresh


_HEARTBEAT = "heartbeat"
_BEHIND = "behind"


def _drain(queue: asyncio.Queue[PublishedEvent]) -> list[PublishedEvent]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def _frame(event: PublishedEvent) -> str:
    data = json.dumps(event.as_json(), separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.position}\nevent: {event.event_type}\ndata: {data}\n\n"
