"""Finding and registering the font that decision documents are set in.

Decision documents are mostly Chinese, so the PDF must embed a font with CJK glyphs: a reader
without one would show empty boxes, and an official notice has to read the same everywhere.
reportlab can embed only TrueType outlines, so the font is a TrueType file or collection (the
Debian package `fonts-wqy-microhei`, installed by `./gw setup`); CFF-based fonts such as Noto CJK
cannot be used. The file is looked up when a document is rendered, not at import, so a machine
without the font still imports the application and gets a clear error only when it renders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["DEBIAN_FONT_PACKAGE", "FONT_ENV", "KNOWN_FONTS", "FontFile", "FontNotFound", "find_font", "register_font"]

FONT_ENV = "GW_DOCUMENT_FONT"
DEBIAN_FONT_PACKAGE = "fonts-wqy-microhei"


@dataclass(frozen=True)
class FontFile:
    """A TrueType font file; `subfont_index` picks the face inside a .ttc collection."""

    path: Path
    subfont_index: int = 0

    @property
    def font_name(self) -> str:
        """The name the font is registered under in reportlab: one per file and face, so a
        different override in the same process never reuses another file's metrics."""
        return f"GW-{self.path.stem}-{self.subfont_index}"


# Debian 12 packages with TrueType CJK outlines, preferred first.
KNOWN_FONTS: tuple[FontFile, ...] = (
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")),  # fonts-wqy-microhei
    FontFile(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),  # fonts-wqy-zenhei
    FontFile(Path("/usr/share/fonts/truetype/arphic/uming.ttc")),  # fonts-arphic-uming
)


class FontNotFound(RuntimeError):
    """No usable CJK font file: documents cannot be rendered until one is installed."""


def _parse_override(value: str) -> FontFile:
    # "path" or "path#index" (the face inside a .ttc collection).
    path, sep, index = value.rpartition("#")
    if sep and index.isdigit():
        return FontFile(Path(path), int(index))
    return FontFile(Path(value))


def find_font(override: str | None = None, *, candidates: tuple[FontFile, ...] = KNOWN_FONTS) -> FontFile:
    """Return the font file to embed.

    An explicit `override` (else the `GW_DOCUMENT_FONT` environment variable), given as a path
    or `path#face-index`, wins and must exist: silently falling back would print documents in
    a font nobody chose. Without one, the first existing file of `candidates` is used.
    Raises `FontNotFound` naming the Debian package to install.
    """
    chosen = override if override is not None else os.environ.get(FONT_ENV)
    if chosen:
        font = _parse_override(chosen)
        if not font.path.is_file():
            raise FontNotFound(
                f"Document font {str(font.path)!r} (from {'the argument' if override else FONT_ENV}) does not exist. "
                f"Point {FONT_ENV} at a TrueType CJK font, or unset it and install the Debian package "
                f"{DEBIAN_FONT_PACKAGE} (apt-get install {DEBIAN_FONT_PACKAGE}).")
        return font
    for font in candidates:
        if font.path.is_file():
            return font
    looked = ", ".join(str(f.path) for f in candidates) or "no known paths"
    raise FontNotFound(
        f"No CJK font for decision documents (looked at {looked}). Install the Debian package "
        f"{DEBIAN_FONT_PACKAGE} (apt-get install {DEBIAN_FONT_PACKAGE}, done by ./gw setup) or set {FONT_ENV} "
        f"to a TrueType font file (path or path#face-index).")


def register_font(override: str | None = None) -> str:
    """Find the font, register it with reportlab once per process, and return its name."""
    font = find_font(override)
    name = font.font_name
    if name not in pdfmetrics.getRegisteredFontNames():
        try:
            face = TTFont(name, str(font.path), subfontIndex=font.subfont_index)
        except Exception as exc:  # reportlab raises TTFError or bare errors for CFF/corrupt files
            raise FontNotFound(
                f"Font {str(font.path)!r} cannot be embedded ({exc}); it must have TrueType outlines, "
                f"e.g. the Debian package {DEBIAN_FONT_PACKAGE}.") from exc
        pdfmetrics.registerFont(face)
    return name
