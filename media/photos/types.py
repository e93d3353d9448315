"""The photo types evidence accepts (issue 11 §2): JPEG, PNG, HEIC and WebP, nothing else."""

from __future__ import annotations

from enum import StrEnum


class PhotoType(StrEnum):
    """A photo type as found in the bytes (never as declared by the client or its file name)."""

    jpeg = "jpeg"
    png = "png"
    heic = "heic"
    webp = "webp"

    @property
    def content_type(self) -> str:
        """The media type to store and serve the original with."""
        return _CONTENT_TYPES[self]


_CONTENT_TYPES: dict[PhotoType, str] = {
    PhotoType.jpeg: "image/jpeg",
    PhotoType.png: "image/png",
    PhotoType.heic: "image/heic",
    PhotoType.webp: "image/webp",
}
