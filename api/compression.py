"""Response compression (brotli or gzip, by the client's Accept-Encoding with its q-values) for the
API's JSON, GeoJSON and vector tiles: a page of 1,000 lines is some 550 KiB as JSON and a tenth of
that compressed, and mobile devices on weak links pay for every byte.

Only whole bodies of a compressible type above `min_bytes` are compressed; a streamed body (the
event stream at /api/v1/events, file downloads) and one already encoded pass untouched. Every
response of a compressible type says `Vary: Accept-Encoding`, compressed or not, so caches keep
the variants apart. ETags are left as they are: the API's ETags are record versions that clients
send back in `If-Match`, which compares strongly, so a weakened (`W/`) one would refuse every write
of a client that accepts compression; `Vary` already keeps shared caches from mixing encodings.

Plain ASGI middleware (no task per request), like `api.middleware`.
"""

from __future__ import annotations

import gzip

import brotli
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Media types worth compressing: JSON of every kind (+json), vector tiles, and text the console loads.
COMPRESSIBLE = frozenset({"application/json", "application/vnd.mapbox-vector-tile", "application/javascript",
                          "text/html", "text/css", "text/javascript", "text/plain", "text/csv"})
# Never compressed whatever the type says: a stream must reach the client event by event.
STREAMED = frozenset({"text/event-stream"})
PREFERENCE = ("br", "gzip")  # on equal q-values the smaller encoding wins


class CompressionSettings(BaseSettings):
    """`GW_COMPRESSION_*`: what is worth compressing and how hard to try."""

    model_config = SettingsConfigDict(env_prefix="GW_COMPRESSION_", extra="ignore")

    min_bytes: int = Field(default=1024, ge=0,
                           description="Smaller bodies go as they are: below about one TCP segment "
                                       "compression saves no round trip and costs CPU")
    # Measured on a page of 1,000 SimBench lines as JSON (330 KiB): brotli 1 gives 32 KiB in 0.9 ms,
    # brotli 4 31 KiB in 7.3 ms; gzip 1 44 KiB in 2.7 ms, gzip 6 35 KiB in 8.3 ms. Compression runs
    # on the event loop, so the fast settings win: the bytes saved by more effort are few.
    brotli_quality: int = Field(default=1, ge=0, le=11,
                                description="Brotli quality for responses (11 is for static files compressed once)")
    gzip_level: int = Field(default=1, ge=1, le=9, description="gzip level for clients without brotli")


def _weights(accept_encoding: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        token, *params = part.split(";")
        coding = token.strip().lower()
        if not coding:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[coding] = weight
    return weights


def choose_encoding(accept_encoding: str | None) -> str | None:
    """The encoding to answer with (`br`, `gzip`) or None for identity: the highest q-value the
    client gives (an explicit one, else `*`'s), brotli first on a tie; q=0 refuses a coding."""
    if not accept_encoding:
        return None
    weights = _weights(accept_encoding)
    default = weights.get("*", 0.0)
    ranked = sorted(PREFERENCE, key=lambda coding: -weights.get(coding, default))
    best = ranked[0]
    return best if weights.get(best, default) > 0 else None


def compressible(media_type: str) -> bool:
    if media_type in STREAMED:
        return False
    return media_type in COMPRESSIBLE or media_type.endswith("+json")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((value for key, value in headers if key.lower() == name), None)


def compress(body: bytes, coding: str, settings: CompressionSettings) -> bytes:
    """`body` in `coding` (`br` or `gzip`) at the configured effort."""
    if coding == "br":
        return bytes(brotli.compress(body, quality=settings.brotli_quality))
    return gzip.compress(body, compresslevel=settings.gzip_level, mtime=0)


class CompressionMiddleware:
    """Compresses whole bodies of a compressible type; passes through a body a handler already
    encoded (vector tiles are kept compressed in their cache, `gis.layers.tiles.service`)."""

    def __init__(self, app: ASGIApp, settings: CompressionSettings) -> None:
        self.app = app
        self.settings = settings

    def compress(self, body: bytes, coding: str) -> bytes:
        return compress(body, coding, self.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = _header(scope.get("headers", []), b"accept-encoding")
        coding = choose_encoding(accept.decode("latin-1") if accept else None)
        held: Message | None = None  # the response start, held until the first body part is seen

        async def send_compressed(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            start, held = held, None
            await self._send(start, message, coding, send)

        await self.app(scope, receive, send_compressed)

    async def _send(self, start: Message, body_message: Message, coding: str | None, send: Send) -> None:
        headers = list(start.get("headers", []))
        media_type = (_header(headers, b"content-type") or b"").split(b";")[0].strip().lower().decode("latin-1")
        if not compressible(media_type) or _header(headers, b"content-encoding") is not None:
            await send(start)
            await send(body_message)
            return
        vary = _header(headers, b"vary")
        headers = [(k, v) for k, v in headers if k.lower() != b"vary"]
        if vary and b"accept-encoding" in vary.lower():
            headers.append((b"vary", vary))  # the handler chose by Accept-Encoding itself (tiles)
        else:
            headers.append((b"vary", vary + b", Accept-Encoding" if vary else b"Accept-Encoding"))
        body = body_message.get("body", b"")
        if coding is None or body_message.get("more_body", False) or len(body) < self.settings.min_bytes:
            await send({**start, "headers": headers})
            await send(body_message)
            return
        compressed = self.compress(body, coding)
        kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        kept += [(b"content-encoding", coding.encode()), (b"content-length", str(len(compressed)).encode())]
        await send({**start, "headers": kept})
        await send({**body_message, "body": compressed})
