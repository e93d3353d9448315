"""Opening a photo's bytes as an image, fully decoded, with the type taken from the bytes.

Both the facts reader and the derived images start here, so a file is refused for the same reasons
in both: not a photo type we accept, a decoded format that disagrees with the magic bytes, more
pixels than Pillow's decompression-bomb limit, or pixel data that is truncated or corrupt.
"""

from __future__ import annotations

import io
import struct
from functools import cache

from PIL import Image, ImageFile

from media.photos.sniff import HEAD_BYTES, detect_type
from media.photos.types import PhotoType

# The Pillow decoder of each type: the only one allowed to open it.
_PILLOW_FORMAT: dict[PhotoType, str] = {
    PhotoType.jpeg: "JPEG", PhotoType.png: "PNG", PhotoType.webp: "WEBP", PhotoType.heic: "HEIF",
}
# A JPEG with a multi-picture index (many phones write one) opens through the JPEG decoder as MPO.
_ALSO_DECODED_AS: dict[PhotoType, frozenset[str]] = {PhotoType.jpeg: frozenset({"MPO"})}
# What Pillow and libheif raise on bytes they cannot decode.
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, RuntimeError, struct.error,
                  Image.DecompressionBombError)
_TRUNCATION_HINTS = ("truncat", "end of file", "premature end", "not enough data", "unexpected end")


class UnreadablePhoto(Exception):
    """The bytes are not a complete, decodable photo; .reason says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def _register_heif() -> None:
    """Teach Pillow HEIC once, on the first HEIC photo (not at import: most processes never need it)."""
    import pillow_heif

    pillow_heif.register_heif_opener()


def open_photo(data: bytes, *, max_pixels: int | None = None) -> tuple[PhotoType, Image.Image]:
    """The photo's type (from its magic bytes) and its fully decoded image.

    `max_pixels` defaults to Pillow's `Image.MAX_IMAGE_PIXELS`; a larger photo is refused before its
    pixels are decoded. Raises `UnreadablePhoto` (reason `truncated: ...` for a cut-off file)."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # A process-wide switch that would make a cut-off upload pass as a complete photo.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on: photos cannot be verified")
    photo_type = detect_type(data[:HEAD_BYTES])
    if photo_type is None:
        raise UnreadablePhoto("not a photo: the bytes are not JPEG, PNG, HEIC or WebP")
    if photo_type is PhotoType.heic:
        _register_heif()
    if (cut := _cut_off(photo_type, data)) is not None:
        raise UnreadablePhoto(f"truncated: {cut}")
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    expected = _PILLOW_FORMAT[photo_type]
    try:
        image = Image.open(io.BytesIO(data), formats=[expected])
        if image.format != expected and image.format not in _ALSO_DECODED_AS.get(photo_type, ()):
            raise UnreadablePhoto(f"format mismatch: the bytes say {photo_type}, the decoder {image.format}")
        if limit is not None and image.width * image.height > limit:
            raise UnreadablePhoto(f"too large: {image.width}x{image.height} pixels, the limit is {limit}")
        image.load()
    except UnreadablePhoto:
        raise
    except Image.DecompressionBombError as exc:
        raise UnreadablePhoto(f"too large: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise UnreadablePhoto(_reason(photo_type, exc)) from exc
    return photo_type, image


def _cut_off(photo_type: PhotoType, data: bytes) -> str | None:
    """Why a PNG, WebP or HEIC file is shorter than its own structure says, or None. (The WebP and
    HEIC decoders only say they cannot read such a file; Pillow accepts a PNG cut off after its last
    pixel data, without its IEND chunk. A cut-off JPEG is reported by its decoder.)"""
    if photo_type is PhotoType.png:
        return _png_cut_off(data)
    if photo_type is PhotoType.webp:
        declared = int.from_bytes(data[4:8], "little") + 8
        return f"the RIFF container declares {declared} bytes, {len(data)} arrived" if declared > len(data) else None
    if photo_type is PhotoType.heic:
        return _heif_cut_off(data)
    return None


def _png_cut_off(data: bytes) -> str | None:
    """Walk the chunks (length, type, data, CRC) up to IEND, which every complete PNG ends with."""
    position = 8  # after the signature
    while position + 12 <= len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        end = position + 12 + length
        if end > len(data):
            chunk = data[position + 4:position + 8].decode("latin-1")
            return f"the '{chunk}' chunk at byte {position} declares {length + 12} bytes, {len(data) - position} arrived"
        if data[position + 4:position + 8] == b"IEND":
            return None
        position = end
    return "the file ends before its IEND chunk"


def _heif_cut_off(data: bytes) -> str | None:
    """Walk the top-level ISO-BMFF boxes: the last one must end where the data ends (or later boxes
    follow). A size of 0 means "to the end of the file"; 1 means a 64-bit size follows the type."""
    position = 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position:position + 4], "big")
        if size == 0:
            return None
        if size == 1:
            if position + 16 > len(data):
                break
            size = int.from_bytes(data[position + 8:position + 16], "big")
        if size < 8:
            return None  # not a box structure: let the decoder refuse it
        if position + size > len(data):
            box = data[position + 4:position + 8].decode("latin-1")
            return f"the '{box}' box at byte {position} declares {size} bytes, {len(data) - position} arrived"
        position += size
    return None if position == len(data) else f"{len(data) - position} bytes after the last box"


def _reason(photo_type: PhotoType, exc: BaseException) -> str:
    if isinstance(exc, Image.UnidentifiedImageError):  # its message names only the BytesIO object
        return f"undecodable {photo_type}: the {_PILLOW_FORMAT[photo_type]} decoder does not recognise it"
    message = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or any(hint in message.lower() for hint in _TRUNCATION_HINTS):
        return f"truncated: {message}"
    return f"undecodable {photo_type}: {message}"
