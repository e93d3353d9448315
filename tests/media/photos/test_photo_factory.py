"""The test photos every evidence test relies on are what they say: distinct per seed, padded to a
size and still decodable, and placed at a known geodesic distance."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import UTC

import pytest
from PIL import Image
from pyproj import Geod

from media.photos import read_facts
from tests.media.photo_factory import KINDS, make_photo, point_at


@pytest.mark.parametrize("kind", KINDS)
def test_a_padded_photo_has_the_size_asked_for_and_still_decodes(kind: str) -> None:
    photo = make_photo(kind, width=320, height=240, pad_to_bytes=600_000)

    assert len(photo) == 600_000
    image = Image.open(io.BytesIO(photo))
    image.load()
    assert image.size == (320, 240)


def test_a_3_mb_jpeg_is_made_well_under_a_second() -> None:
    started = time.perf_counter()
    photo = make_photo(pad_to_bytes=3_000_000)
    elapsed = time.perf_counter() - started

    assert len(photo) == 3_000_000 and elapsed < 1.0


def test_each_seed_gives_other_bytes() -> None:
    digests = {hashlib.sha256(make_photo(width=160, height=120, seed=seed)).hexdigest() for seed in range(5)}

    assert len(digests) == 5


@pytest.mark.parametrize(("metres", "bearing"), [(49.0, 0.0), (51.0, 90.0), (1234.5, 217.0)])
def test_point_at_is_the_given_geodesic_distance_away(metres: float, bearing: float) -> None:
    lon, lat = point_at(116.397128, 39.916527, metres=metres, bearing_deg=bearing)

    _, _, distance = Geod(ellps="WGS84").inv(116.397128, 39.916527, lon, lat)
    assert distance == pytest.approx(metres, abs=1e-3)
    facts = read_facts(make_photo(width=64, height=48, gps=(lon, lat)), local_tz=UTC)
    assert (facts.longitude, facts.latitude) == (pytest.approx(lon, abs=1e-6), pytest.approx(lat, abs=1e-6))
