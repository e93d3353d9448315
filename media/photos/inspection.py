"""Facts and derived images from one decode: what the verification worker needs of a photo. Calling
`read_facts` and `render_variants` separately decodes the photo twice (a 12 MP HEIC takes about a
second to decode here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo

from media.photos.decode import open_photo
from media.photos.derived import VARIANTS, variants_of
from media.photos.facts import PhotoFacts, facts_of


@dataclass(frozen=True)
class InspectedPhoto:
    facts: PhotoFacts
    variants: dict[str, bytes]  # variant name -> JPEG bytes


def inspect_photo(data: bytes, *, local_tz: tzinfo, variants: Mapping[str, int] = VARIANTS,
                  max_pixels: int | None = None) -> InspectedPhoto:
    """`read_facts` and `render_variants` of the same bytes, decoding them once. Raises `UnreadablePhoto`."""
    photo_type, image = open_photo(data, max_pixels=max_pixels)
    with image:
        return InspectedPhoto(facts=facts_of(photo_type, image, local_tz=local_tz),
                              variants=variants_of(image, variants))
