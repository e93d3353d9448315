"""A ceiling on the size of every request body, enforced before any handler parses it.

Without it a client could post a 40 MB line of a million vertices and the API would read, parse
and validate all of it (and used to store it, audit record included). The limit depends on what
is sent: JSON bodies get `max_json_body_bytes`, file uploads (multipart forms, raw files) get
`max_upload_bytes` plus a little for the form's own fields. Both declared (`Content-Length`) and
chunked bodies are covered:

- a declared length over the limit is answered 413 at once, and the body is never read;
- a chunked body is counted as it arrives; the chunk that crosses the limit ends the request with
  413, and the rest is never read.

The 413 is an RFC 9457 problem naming the limit in bytes, and it asks the server to close the
connection (`Connection: close`): the unread rest of the body would otherwise be taken for the
next request on a kept-alive connection.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi import TrackedSend
from api.errors import problem
from core.settings import ApiSettings

# Media types whose bodies are files rather than JSON documents.
UPLOAD_TYPES = ("multipart/form-data", "application/octet-stream", "application/geopackage+sqlite3")


class BodyTooLarge(HTTPException):
    """Raised from inside `receive` when a body crosses its limit. A Starlette `HTTPException`, so
    FastAPI's body parsing passes it through unchanged and the one error mapping renders it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=too_large_detail(limit), headers={"Connection": "close"})
        self.limit = limit


def too_large_detail(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes; nothing was read further or stored."


def body_limit(settings: ApiSettings, content_type: str) -> int:
    """The byte limit for a body of this media type."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in UPLOAD_TYPES:
        return settings.max_upload_bytes + settings.upload_form_overhead_bytes
    return settings.max_json_body_bytes


class BodySizeLimit:
    """Pure ASGI middleware (no buffering, no task group): counts bytes on the way in."""

    def __init__(self, app: ASGIApp, *, settings: ApiSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = body_limit(self.settings, headers.get("content-type", ""))
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(limit, scope, receive, send)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, counted_receive, tracked)
        except BodyTooLarge as exc:
            if tracked.started:  # a handler streaming its answer while reading: nothing better to send
                raise
            await self._refuse(exc.limit, scope, receive, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "Payload too large", too_large_detail(limit), headers={"Connection": "close"},
                           limit_bytes=limit)
        await response(scope, receive, send)
