"""Derived images (issue 11 §2): 1280 px and 320 px JPEGs, upright, without any metadata (so no GPS
leaves with a shared copy), for every photo type; the original stays exactly as uploaded."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from media.photos import VARIANTS, UnreadablePhoto, render_variants
from tests.media.photo_factory import KINDS, MARKER_FRACTION, make_photo, truncated

POLE = (116.397128, 39.916527)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_variants_are_1280_and_320_pixels_on_the_long_edge() -> None:
    assert dict(VARIANTS) == {"large": 1280, "thumb": 320}


@pytest.mark.parametrize(("stored", "large", "thumb"), [
    ((1600, 1200), (1280, 960), (320, 240)),  # landscape
    ((1200, 1600), (960, 1280), (240, 320)),  # portrait
    ((1000, 250), (1000, 250), (320, 80)),  # smaller than large: not enlarged
    ((200, 150), (200, 150), (200, 150)),  # smaller than both
])
def test_each_variant_keeps_the_aspect_and_is_never_enlarged(stored: tuple[int, int], large: tuple[int, int],
                                                             thumb: tuple[int, int]) -> None:
    variants = render_variants(make_photo(width=stored[0], height=stored[1]))

    assert (_open(variants["large"]).size, _open(variants["thumb"]).size) == (large, thumb)


def _marker_corner(image: Image.Image) -> str:
    """Which corner of the displayed image holds the red marker block."""
    inset_x, inset_y = int(image.width * MARKER_FRACTION / 2), int(image.height * MARKER_FRACTION / 2)
    corners = {"top-left": (inset_x, inset_y), "top-right": (image.width - 1 - inset_x, inset_y),
               "bottom-left": (inset_x, image.height - 1 - inset_y),
               "bottom-right": (image.width - 1 - inset_x, image.height - 1 - inset_y)}
    red = [name for name, xy in corners.items() if _is_red(image.convert("RGB").getpixel(xy))]
    assert len(red) == 1, red
    return red[0]


def _is_red(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("orientation", "displayed_size", "corner"), [
    (1, (320, 240), "top-left"),
    (3, (320, 240), "bottom-right"),
    (6, (240, 320), "top-right"),  # stored on its side; turned 90 degrees clockwise to be seen
    (8, (240, 320), "bottom-left"),  # turned 90 degrees counter-clockwise
])
def test_the_orientation_is_applied_so_the_picture_is_upright(kind: str, orientation: int,
                                                              displayed_size: tuple[int, int], corner: str) -> None:
    photo = make_photo(kind, width=400, height=300, orientation=orientation)

    thumb = _open(render_variants(photo)["thumb"])

    assert thumb.size == displayed_size
    assert _marker_corner(thumb) == corner


@pytest.mark.parametrize("kind", KINDS)
def test_variants_are_jpegs_without_exif_gps_or_other_metadata(kind: str) -> None:
    photo = make_photo(kind, width=400, height=300, captured_at=None, gps=POLE, accuracy_m=3.0, orientation=6)

    for name, data in render_variants(photo).items():
        image = _open(data)
        assert data.startswith(b"\xff\xd8\xff") and image.format == "JPEG", name
        assert image.mode == "RGB"
        assert dict(image.getexif()) == {}, name
        assert not {"exif", "xmp", "icc_profile"} & set(image.info), name
        assert b"Exif\x00\x00" not in data and b"HUAWEI" not in data


def test_transparent_pixels_of_a_png_are_shown_on_white() -> None:
    picture = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    picture.paste((0, 0, 255, 255), (200, 0, 400, 300))
    out = io.BytesIO()
    picture.save(out, format="PNG")

    thumb = _open(render_variants(out.getvalue())["thumb"])

    assert all(abs(c - 255) <= 2 for c in thumb.getpixel((40, 120)))  # type: ignore[union-attr]
    r, g, b = thumb.getpixel((280, 120))  # type: ignore[misc]
    assert r < 10 and g < 10 and b > 240


@pytest.mark.parametrize("kind", KINDS)
def test_the_original_bytes_are_left_exactly_as_uploaded(kind: str) -> None:
    photo = make_photo(kind, width=400, height=300, gps=POLE, orientation=6)
    before = hashlib.sha256(photo).hexdigest()

    render_variants(photo)

    assert hashlib.sha256(photo).hexdigest() == before


def test_only_the_variants_asked_for_are_rendered() -> None:
    variants = render_variants(make_photo(width=400, height=300), {"tiny": 64})

    assert list(variants) == ["tiny"] and _open(variants["tiny"]).size == (64, 48)


def test_a_truncated_photo_has_no_derived_images() -> None:
    with pytest.raises(UnreadablePhoto, match="^truncated: "):
        render_variants(truncated(make_photo(width=400, height=300)))
