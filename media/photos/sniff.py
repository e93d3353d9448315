"""A photo's type from its first bytes (magic numbers), so the worker can read only the head of a
stored object and refuse anything that is not a photo we accept, whatever it was called or declared.

HEIC/HEIF is an ISO-BMFF file: an `ftyp` box at offset 4 whose major or compatible brands name a
HEIF image brand. AVIF uses the same container and the same `mif1` brand, so an `avif`/`avis` brand
anywhere in the box refuses the file: we do not accept AVIF (issue 11 names JPEG, PNG, HEIC, WebP).
"""

from __future__ import annotations

from media.photos.types import PhotoType

#: Leading bytes `detect_type` looks at: JPEG, PNG and WebP need 12; an `ftyp` box lists its
#: compatible brands after 16 bytes of header, and 64 bytes hold 12 of them (phones write 2 to 4).
HEAD_BYTES: int = 64

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def detect_type(head: bytes) -> PhotoType | None:
    """The photo type the bytes start with, or None for anything else (PDF, GIF, AVIF, text, an
    executable renamed `.jpg`, too few bytes). Pass at least `HEAD_BYTES` bytes when there are."""
    if head.startswith(_JPEG):
        return PhotoType.jpeg
    if head.startswith(_PNG):
        return PhotoType.png
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return PhotoType.webp
    if _is_heif(head):
        return PhotoType.heic
    return None


def _is_heif(head: bytes) -> bool:
    """An `ftyp` box at offset 4 with a HEIF brand and no AVIF brand."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[:4], "big")
    if box_size < 16:
        return False
    end = min(box_size, len(head))
    # Major brand at 8..12, minor version at 12..16, then compatible brands, four bytes each.
    brands = {head[8:12], *(head[i:i + 4] for i in range(16, end - 3, 4))}
    return not brands & _AVIF_BRANDS and bool(brands & _HEIF_BRANDS)
