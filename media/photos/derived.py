"""The derived images shared instead of the original (issue 11 §2): JPEGs with the EXIF orientation
applied and no metadata at all, so a thumbnail passed on never carries the photo's GPS position.
The original's bytes are only read, never changed: it stays the evidence.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from types import MappingProxyType

from PIL import Image, ImageOps

from media.photos.decode import open_photo

#: Long edge in pixels of each derived image, by variant name (issue 11 §2: "1280 px and 320 px JPEGs").
VARIANTS: Mapping[str, int] = MappingProxyType({"large": 1280, "thumb": 320})

# JPEG quality of derived images: a viewing copy, not the evidence (the original is kept as uploaded).
_JPEG_QUALITY = 85
_BACKGROUND = (255, 255, 255)  # transparent pixels are shown on white


def render_variants(data: bytes, variants: Mapping[str, int] = VARIANTS, *,
                    max_pixels: int | None = None) -> dict[str, bytes]:
    """One JPEG per variant, its long edge at most the variant's size (never enlarged), oriented as
    the photo should be seen, without EXIF, XMP or ICC data. Raises `UnreadablePhoto`."""
    _, image = open_photo(data, max_pixels=max_pixels)
    with image:
        return variants_of(image, variants)


def variants_of(image: Image.Image, variants: Mapping[str, int] = VARIANTS) -> dict[str, bytes]:
    """The variants of a photo `open_photo` has decoded (for callers that also read its facts)."""
    upright = _flatten(ImageOps.exif_transpose(image))
    rendered: dict[str, bytes] = {}
    # Largest first, each from the previous one: downscaling an already reduced image is cheaper.
    current = upright
    for name, size in sorted(variants.items(), key=lambda item: item[1], reverse=True):
        current = current.copy()
        current.thumbnail((size, size), Image.Resampling.LANCZOS)
        rendered[name] = _jpeg(current)
    return {name: rendered[name] for name in variants}


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels only: alpha composed over white, palettes and greys expanded."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, _BACKGROUND)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    """JPEG bytes of the pixels alone: Pillow writes EXIF, XMP or ICC only when asked to, and this
    passes none of them."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=_JPEG_QUALITY)
    return out.getvalue()
