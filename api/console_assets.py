"""Which files the map console at /console may serve, and how: its own page, scripts, styles and UI
texts (api/console/), and MapLibre GL JS's browser build from the npm package `./gw` installs
(api/console/node_modules/maplibre-gl/dist). Nothing else under those folders is reachable: no
package manifests, no other package's files, no path that climbs out (`..`, symlinks).

A file is answered as one body (not streamed), so that the app's compression applies (MapLibre's
script is 1 MB, under a third of that with brotli), with an ETag of its content that browsers
revalidate on each load (304 when unchanged). Contents are kept in memory while the file's size and
modification time stay the same."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.errors import NotFound
from core.settings import S3Settings

CONSOLE_DIR = Path(__file__).resolve().parent / "console"
PAGE = CONSOLE_DIR / "index.html"
# URL folder under /console -> the folder it serves, with the file endings allowed there.
_FOLDERS: dict[str, tuple[Path, frozenset[str]]] = {
    "js": (CONSOLE_DIR / "js", frozenset({".js"})),
    "css": (CONSOLE_DIR / "css", frozenset({".css"})),
    "i18n": (CONSOLE_DIR / "i18n", frozenset({".json"})),
    "vendor/maplibre-gl": (CONSOLE_DIR / "node_modules" / "maplibre-gl" / "dist",
                           frozenset({".js", ".css", ".map"})),
}
_MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json"}
CACHED_FILES = 64  # more than the console has: its own files, MapLibre's script and style (and source maps)
# The console's own Content-Security-Policy: everything from this origin; MapLibre starts its worker
# from a blob: URL and draws sprites and glyphs into data:/blob: images; photos are shown from the
# object store's presigned URLs (`{storage}`: its public origin).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src blob:; "
                           "img-src 'self' data: blob: {storage}; style-src 'self' 'unsafe-inline'; "
                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def content_security_policy(s3: S3Settings) -> str:
    """The policy with the origin browsers load presigned photo URLs from (an <img> cannot send the
    API's bearer token, so the console shows a photo by its short-lived presigned URL)."""
    return CONTENT_SECURITY_POLICY.format(storage=s3.device_origin)


@dataclass(frozen=True)
class ConsoleFile:
    body: bytes
    media_type: str
    etag: str

    def matches(self, if_none_match: str | None) -> bool:
        """Whether the browser's copy is this one (RFC 9110 weak comparison, as If-None-Match asks)."""
        if if_none_match is None:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


@lru_cache(maxsize=CACHED_FILES)
def _read(path: Path, _mtime_ns: int, _size: int) -> ConsoleFile:
    body = path.read_bytes()
    media_type = _MEDIA_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return ConsoleFile(body=body, media_type=media_type, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def _load(path: Path) -> ConsoleFile:
    stat = path.stat()
    return _read(path, stat.st_mtime_ns, stat.st_size)


def asset(path: str) -> ConsoleFile:
    """The file that `/console/{path}` names, or NotFound (also for a missing front-end install)."""
    folder, _, name = path.rpartition("/")
    if folder in _FOLDERS and name and not name.startswith("."):
        base, endings = _FOLDERS[folder]
        candidate = (base / name).resolve()
        if candidate.suffix in endings and candidate.parent == base.resolve() and candidate.is_file():
            return _load(candidate)
    raise NotFound(f"The console has no file {path!r}.")


def page() -> ConsoleFile:
    """The console's single page."""
    return _load(PAGE)
