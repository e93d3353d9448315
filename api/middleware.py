"""Request-edge guards that hold for every route at once, before any handler or database sees input.

- `RequestIdMiddleware` binds the request id (the client's `X-Request-ID` when it is usable, else a
  fresh one) and echoes it; an id the audit log could not store is a 422, not a 500 on every write.
- `NulByteGuard` rejects a NUL character anywhere in the path, query, headers or a JSON or form body.
  PostgreSQL `text` and `jsonb` cannot hold U+0000, so such a value could only ever end in a database
  error; it is answered 422 naming the field, and nothing reaches a handler.

Both are plain ASGI middleware (not `BaseHTTPMiddleware`), so they add no task per request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from core.context import REQUEST_ID_HEADER, bind_request_id, request_id_problem

NUL = "\x00"
JSON_NUL = b"\\u0000"  # the only way JSON text can carry U+0000 (a raw 0x00 byte is not valid JSON)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = _header(scope, REQUEST_ID_HEADER.lower().encode())
        complaint = request_id_problem(sent)
        request_id = bind_request_id(None if complaint else sent)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        if complaint:
            field = f"header.{REQUEST_ID_HEADER}"
            response = problem(422, "Invalid input", f"{field}: {complaint}",
                               errors=[{"field": field, "message": complaint}])
            await response(scope, receive, send_with_id)
            return
        await self.app(scope, receive, send_with_id)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class NulByteGuard:
    """422 for U+0000 in any string a client sends; JSON and form bodies are read once and replayed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _nul_in_path(scope) or _nul_in_query(scope) or _nul_in_headers(scope)
        media_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if field is None and _is_checked_body(media_type):
            body, receive = await _buffered(receive)
            field = _nul_in_body(body, media_type)
        if field is None:
            await self.app(scope, receive, send)
            return
        message = "must not contain a NUL character (U+0000)"
        response = problem(422, "Invalid input", f"{field}: {message}", errors=[{"field": field, "message": message}])
        await response(scope, receive, send)


def _nul_in_path(scope: Scope) -> str | None:
    raw = scope.get("raw_path") or scope.get("path", "").encode()
    return "path" if b"\x00" in unquote_to_bytes(raw) or NUL in scope.get("path", "") else None


def _nul_in_query(scope: Scope) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and NUL not in query:
        return None
    for key, value in parse_qsl(query, keep_blank_values=True):
        if NUL in key or NUL in value:
            return f"query.{key.replace(NUL, '')}"
    return "query"


def _nul_in_headers(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if b"\x00" in value or b"\x00" in key:
            return "header." + key.decode("latin-1").replace(NUL, "")
    return None


def _is_checked_body(media_type: str) -> bool:
    return media_type == "application/x-www-form-urlencoded" or media_type.endswith("json")


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it to the app as if unread."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _nul_in_body(body: bytes, media_type: str) -> str | None:
    if media_type == "application/x-www-form-urlencoded":
        if b"%00" not in body and b"\x00" not in body:
            return None
        for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if NUL in key or NUL in value:
                return key.replace(NUL, "")
        return "body"
    if JSON_NUL not in body:  # RFC 8259 spells the escape with a lower-case u only
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own validation answers 422
    return next(_nul_paths(document, ()), None)


def _nul_paths(value: Any, path: tuple[str, ...]) -> Iterator[str]:
    """Dotted paths (the convention of every other 422) of strings or keys holding U+0000."""
    if isinstance(value, str):
        if NUL in value:
            yield ".".join(path) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield ".".join((*path, key.replace(NUL, ""))) or "body"
            yield from _nul_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, str(index)))
