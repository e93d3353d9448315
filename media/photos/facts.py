"""What a photo says about itself (issue 11 §2): type, size, capture time, GPS position and accuracy,
camera, orientation. Read from the EXIF of all four types the same way (`getexif()` with its Exif
and GPS IFDs: JPEG APP1, PNG eXIf, WebP EXIF chunk, HEIC Exif item).

Values a phone wrote badly (a zero-denominator rational, a latitude of 91, a missing N/S reference,
a date of 0000:00:00) become None: a photo without usable EXIF is still evidence, only weaker.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from PIL import Image

from media.photos.decode import UnreadablePhoto, open_photo
from media.photos.types import PhotoType

__all__ = ["PhotoFacts", "UnreadablePhoto", "facts_of", "read_facts"]

# EXIF tags (CIPA DC-008 / Exif 2.32).
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 271, 272, 274, 306
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME, _OFFSET_TIME_ORIGINAL = 36867, 36880, 36881
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_H_ERROR = 1, 2, 3, 4, 31

_QUARTER_TURNS = frozenset({5, 6, 7, 8})  # orientations that swap width and height
_EXIF_TIME = "%Y:%m:%d %H:%M:%S"
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class PhotoFacts:
    """The facts the worker stores on the evidence row and checks against the linked record."""

    photo_type: PhotoType
    width: int  # as stored, before orientation
    height: int
    captured_at: datetime | None  # aware
    longitude: float | None
    latitude: float | None
    accuracy_m: float | None  # GPSHPositioningError
    make: str | None
    model: str | None
    orientation: int | None  # EXIF 274, 1..8

    def as_json(self) -> dict[str, Any]:
        """JSON-able facts for a jsonb column or an API response: ISO times, None values left out."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value is None:
                continue
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        out["photo_type"] = str(self.photo_type)
        return out


def read_facts(data: bytes, *, local_tz: tzinfo, max_pixels: int | None = None) -> PhotoFacts:
    """Decode the photo completely and read its facts. A capture time without an EXIF offset is
    taken as wall-clock time in `local_tz` (the utility's zone). Raises `UnreadablePhoto` for a
    truncated, corrupt, mislabelled or oversized file (`max_pixels`: see `open_photo`)."""
    photo_type, image = open_photo(data, max_pixels=max_pixels)
    with image:
        return facts_of(photo_type, image, local_tz=local_tz)


def facts_of(photo_type: PhotoType, image: Image.Image, *, local_tz: tzinfo) -> PhotoFacts:
    """The facts of a photo `open_photo` has decoded (for callers that also render its variants)."""
    exif = image.getexif()
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    gps_ifd = exif.get_ifd(_GPS_IFD)
    position = _position(gps_ifd)
    orientation = _orientation(photo_type, image.info.get("original_orientation"), exif)
    width, height = image.size
    if photo_type is PhotoType.heic and orientation in _QUARTER_TURNS:
        width, height = height, width  # libheif returned it turned; report the stored size
    return PhotoFacts(
        photo_type=photo_type,
        width=width,
        height=height,
        captured_at=_captured_at(exif, exif_ifd, local_tz),
        longitude=position[0] if position else None,
        latitude=position[1] if position else None,
        accuracy_m=_accuracy(gps_ifd),
        make=_text(exif.get(_MAKE)),
        model=_text(exif.get(_MODEL)),
        orientation=orientation,
    )


def _orientation(photo_type: PhotoType, heif_original: Any, ifd0: Mapping[int, Any]) -> int | None:
    """EXIF orientation 1..8. A HEIC's rotation is a container transform (irot/imir) that libheif
    applies while decoding; pillow_heif then sets the EXIF tag to 1 and keeps the written value as
    `original_orientation`, which is what the phone recorded."""
    value = _int(ifd0.get(_ORIENTATION))
    if photo_type is PhotoType.heic and heif_original is not None:
        value = _int(heif_original)
    return value if value is not None and 1 <= value <= 8 else None


def _captured_at(ifd0: Mapping[int, Any], exif_ifd: Mapping[int, Any], local_tz: tzinfo) -> datetime | None:
    """DateTimeOriginal with OffsetTimeOriginal, else DateTime (IFD0) with OffsetTime."""
    for stamp, offset in ((exif_ifd.get(_DATETIME_ORIGINAL), exif_ifd.get(_OFFSET_TIME_ORIGINAL)),
                          (ifd0.get(_DATETIME), exif_ifd.get(_OFFSET_TIME))):
        wall = _wall_clock(stamp)
        if wall is not None:
            return wall.replace(tzinfo=_offset(offset) or local_tz)
    return None


def _wall_clock(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text[:19], _EXIF_TIME)
    except ValueError:  # "0000:00:00 00:00:00", blanks, or another format
        return None


def _offset(value: Any) -> timezone | None:
    match = _OFFSET.match(_text(value) or "")
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14) or int(minutes) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _position(gps: Mapping[int, Any]) -> tuple[float, float] | None:
    """(longitude, latitude) in degrees, or None unless both values and both references are sound."""
    lat = _degrees(gps.get(_GPS_LAT))
    lon = _degrees(gps.get(_GPS_LON))
    lat_ref = (_text(gps.get(_GPS_LAT_REF)) or "").upper()
    lon_ref = (_text(gps.get(_GPS_LON_REF)) or "").upper()
    if lat is None or lon is None or lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        return None
    if lat > 90 or lon > 180:
        return None
    return (-lon if lon_ref == "W" else lon), (-lat if lat_ref == "S" else lat)


def _degrees(value: Any) -> float | None:
    """Degrees from EXIF's three rationals (degrees, minutes, seconds)."""
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    degrees, minutes, seconds = (_real(part) for part in value)
    if degrees is None or minutes is None or seconds is None or min(degrees, minutes, seconds) < 0:
        return None
    if minutes >= 60 or seconds >= 60:
        return None
    return degrees + minutes / 60 + seconds / 3600


def _accuracy(gps: Mapping[int, Any]) -> float | None:
    value = _real(gps.get(_GPS_H_ERROR))
    return value if value is not None and value >= 0 else None


def _real(value: Any) -> float | None:
    """A finite float from an EXIF rational or number (a zero denominator is no value)."""
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    """An EXIF ASCII value as text, without the NULs and blanks phones pad it with."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    text = value.strip("\x00 ").strip()
    return text or None
