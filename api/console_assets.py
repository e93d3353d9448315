"""Which files the map console at /console may serve: its own page, scripts, styles and UI texts
(api/console/), and MapLibre GL JS's browser build from the npm package `./gw` installs
(api/console/node_modules/maplibre-gl/dist). Nothing else under those folders is reachable: no
package manifests, no other package's files, no path that climbs out (`..`, symlinks)."""

from __future__ import annotations

from pathlib import Path

from core.errors import NotFound

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
# The console's own Content-Security-Policy: everything from this origin; MapLibre starts its worker
# from a blob: URL and draws sprites and glyphs into data:/blob: images.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src blob:; "
                           "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def asset(path: str) -> Path:
    """The file that `/console/{path}` names, or NotFound (also for a missing front-end install)."""
    folder, _, name = path.rpartition("/")
    if folder in _FOLDERS and name and not name.startswith("."):
        base, endings = _FOLDERS[folder]
        candidate = (base / name).resolve()
        if candidate.suffix in endings and candidate.parent == base.resolve() and candidate.is_file():
            return candidate
    raise NotFound(f"The console has no file {path!r}.")


def page() -> Path:
    """The console's single page."""
    return PAGE
