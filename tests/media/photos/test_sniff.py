"""A photo's type comes from its first bytes, never from its name or declared type (issue 11 §2):
JPEG, PNG, HEIC and WebP are recognised; PDF, GIF, AVIF, text, programs and empty input are not."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from media.photos import HEAD_BYTES, PhotoType, detect_type
from tests.media.photo_factory import KINDS, make_photo


@pytest.mark.parametrize("kind", KINDS)
def test_each_photo_type_is_recognised_from_its_first_bytes(kind: str) -> None:
    photo = make_photo(kind, width=64, height=48)

    assert detect_type(photo[:HEAD_BYTES]) is PhotoType(kind)


def test_the_media_type_of_each_photo_type_is_the_registered_one() -> None:
    assert {photo_type.content_type for photo_type in PhotoType} == {
        "image/jpeg", "image/png", "image/heic", "image/webp"}


def _pillow_file(format_: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 20, 30)).save(out, format=format_)
    return out.getvalue()


@pytest.mark.parametrize(("what", "head"), [
    ("PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
    ("GIF", _pillow_file("GIF")),
    ("AVIF (a HEIF container, but not a photo type we accept)", _pillow_file("AVIF")),
    ("text", b"This is a photo of pole 17, honestly.\n"),
    ("Windows program renamed photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"),
    ("MP4 video (an ISO-BMFF container without a HEIF brand)",
     b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"),
    ("empty input", b""),
    ("only half of a JPEG signature", b"\xff\xd8"),
])
def test_anything_but_a_photo_is_not_recognised(what: str, head: bytes) -> None:
    assert detect_type(head[:HEAD_BYTES]) is None, what


@pytest.mark.parametrize(("brands", "expected"), [
    (b"heic\x00\x00\x00\x00mif1heic", PhotoType.heic),  # an iPhone photo
    (b"mif1\x00\x00\x00\x00heicmiaf", PhotoType.heic),  # HEIF brand only among the compatible ones
    (b"heix\x00\x00\x00\x00", PhotoType.heic),  # 10-bit HEIC, no compatible brands
    (b"avif\x00\x00\x00\x00mif1miaf", None),  # AVIF shares mif1 with HEIC
    (b"mif1\x00\x00\x00\x00avifmiaf", None),
])
def test_a_heif_container_is_a_heic_photo_by_its_brands(brands: bytes, expected: PhotoType | None) -> None:
    ftyp = (8 + len(brands)).to_bytes(4, "big") + b"ftyp" + brands
    assert detect_type(ftyp + b"\x00\x00\x00\x08meta") is expected
