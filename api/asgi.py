"""Small pieces shared by the pure ASGI middlewares."""

from __future__ import annotations

from starlette.types import Message, Send


class TrackedSend:
    """Wraps `send` and remembers whether the response has begun.

    A middleware that turns an exception into an answer may only do so before the first byte went
    out; after that, half a response is on the wire and only closing the connection can tell the client.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
