"""Real test photos: JPEG, PNG, HEIC and WebP files written by Pillow / pillow_heif with real EXIF
(capture time and offset, GPS IFD with references and rationals, horizontal accuracy, make, model,
orientation), as a phone would upload them. Used by every evidence test and by `bench/`.

The picture is a colour gradient with seeded noise (so `seed` changes the SHA-256) and a red block
in the top-left corner of the stored pixels (MARKER), so a test can see where orientation put it.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import datetime
from fractions import Fraction
from functools import cache

from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational
from pyproj import Geod

KINDS = ("jpeg", "png", "heic", "webp")
MARKER_RGB = (255, 0, 0)
MARKER_FRACTION = 0.2  # the red block covers this share of the width and the height, top left
_NOISE_WEIGHT = 0.25
_QUALITY = {"jpeg": 92, "webp": 90, "heic": 80}
_SECONDS_DENOMINATOR = 1_000_000  # GPS seconds to a millionth (about 3 cm): well inside 1e-6 degree
_ACCURACY_DENOMINATOR = 1000
_JPEG_SEGMENT_MAX = 65533  # payload bytes of one JPEG APPn segment


def make_photo(kind: str = "jpeg", *, width: int = 1600, height: int = 1200,
               captured_at: datetime | None = None, offset: str | None = None,
               gps: tuple[float, float] | None = None, accuracy_m: float | None = None,
               make: str | None = "HUAWEI", model: str | None = "P60 Pro", orientation: int | None = 1,
               pad_to_bytes: int | None = None, seed: int = 0) -> bytes:
    """The bytes of a `kind` photo ("jpeg", "png", "heic" or "webp") of `width` x `height` stored pixels.

    - `captured_at`: its wall-clock time is written as DateTimeOriginal and DateTime (its tzinfo,
      if any, is NOT written); `offset` ("+08:00") is written as OffsetTimeOriginal and OffsetTime.
      Without `offset` a reader must assume the local zone, as for many phones.
    - `gps`: (longitude, latitude) in degrees, written as GPS rationals with N/S and E/W references;
      `accuracy_m` as GPSHPositioningError.
    - `pad_to_bytes`: grow the file to that many bytes (when it is smaller; exact but for a byte or
      a chunk header's few) and keep it a valid, fully decodable photo of its type: a run of APP15 segments in a JPEG, a private ancillary chunk in
      a PNG, an unknown RIFF chunk in a WebP, a top-level `free` box in a HEIC. All four kinds.
    - `seed`: other noise, so other bytes and another SHA-256.

    HEIC encoding (x265) is slow: about 1 s per megapixel here, so HEIC tests use small sizes.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    exif = _exif(captured_at=captured_at, offset=offset, gps=gps, accuracy_m=accuracy_m, make=make,
                 model=model, orientation=orientation)
    data = _encode(kind, _picture(width, height, seed), exif)
    if pad_to_bytes is not None and pad_to_bytes > len(data):
        data = _PADDERS[kind](data, pad_to_bytes - len(data), random.Random(seed))
    return data


def point_at(lon: float, lat: float, *, metres: float, bearing_deg: float) -> tuple[float, float]:
    """(longitude, latitude) `metres` away from (lon, lat) along `bearing_deg` on the WGS84 ellipsoid."""
    lon2, lat2, _ = _geod().fwd(lon, lat, bearing_deg, metres)
    return float(lon2), float(lat2)


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    """The first `keep` share of the bytes: an upload cut off on a weak mobile link."""
    return data[:int(len(data) * keep)]


@cache
def _geod() -> Geod:
    return Geod(ellps="WGS84")


def _picture(width: int, height: int, seed: int) -> Image.Image:
    """A gradient with seeded noise and the red marker block top left."""
    red = Image.linear_gradient("L").resize((width, height))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    blue = Image.new("L", (width, height), 96)
    gradient = Image.merge("RGB", (red, green, blue))
    noise = Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))
    picture = Image.blend(gradient, noise, _NOISE_WEIGHT)
    ImageDraw.Draw(picture).rectangle(
        (0, 0, max(1, int(width * MARKER_FRACTION)) - 1, max(1, int(height * MARKER_FRACTION)) - 1),
        fill=MARKER_RGB)
    return picture


def _exif(*, captured_at: datetime | None, offset: str | None, gps: tuple[float, float] | None,
          accuracy_m: float | None, make: str | None, model: str | None, orientation: int | None) -> Image.Exif:
    exif = Image.Exif()
    if make is not None:
        exif[271] = make
    if model is not None:
        exif[272] = model
    if orientation is not None:
        exif[274] = orientation
    if captured_at is not None:
        stamp = captured_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[306] = stamp
        exif_ifd = exif.get_ifd(0x8769)
        exif_ifd[36867] = stamp  # DateTimeOriginal
        exif_ifd[36868] = stamp  # DateTimeDigitized
        if offset is not None:
            exif_ifd[36880] = offset  # OffsetTime
            exif_ifd[36881] = offset  # OffsetTimeOriginal
    if gps is not None or accuracy_m is not None:
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[0] = b"\x02\x03\x00\x00"  # GPSVersionID 2.3.0.0
        if gps is not None:
            lon, lat = gps
            gps_ifd[1] = "N" if lat >= 0 else "S"
            gps_ifd[2] = _dms(abs(lat))
            gps_ifd[3] = "E" if lon >= 0 else "W"
            gps_ifd[4] = _dms(abs(lon))
        if accuracy_m is not None:
            gps_ifd[31] = _rational(Fraction(round(accuracy_m * _ACCURACY_DENOMINATOR), _ACCURACY_DENOMINATOR))
    return exif


def _dms(degrees: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Degrees as EXIF's (degrees, minutes, seconds) rationals, seconds to a millionth."""
    micro_seconds = round(degrees * 3600 * _SECONDS_DENOMINATOR)
    whole_seconds, fraction = divmod(micro_seconds, _SECONDS_DENOMINATOR)
    deg, rest = divmod(whole_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (IFDRational(deg, 1), IFDRational(minutes, 1),
            IFDRational(seconds * _SECONDS_DENOMINATOR + fraction, _SECONDS_DENOMINATOR))


def _rational(value: Fraction) -> IFDRational:
    return IFDRational(value.numerator, value.denominator)


def _encode(kind: str, picture: Image.Image, exif: Image.Exif) -> bytes:
    out = io.BytesIO()
    if kind == "heic":
        from pillow_heif import from_pillow

        heif = from_pillow(picture)
        heif.save(out, quality=_QUALITY[kind], exif=exif.tobytes())
    elif kind == "png":
        picture.save(out, format="PNG", exif=exif, compress_level=1)
    else:
        picture.save(out, format=kind.upper(), exif=exif, quality=_QUALITY[kind])
    return out.getvalue()


def _pad_jpeg(data: bytes, extra: int, rng: random.Random) -> bytes:
    """APP15 segments right after the APPn segments already there (EXIF stays first)."""
    position = 2
    while data[position] == 0xFF and 0xE0 <= data[position + 1] <= 0xEF:
        position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
    segments = bytearray()
    while extra >= 4:
        payload = min(extra - 4, _JPEG_SEGMENT_MAX)
        segments += b"\xff\xef" + (payload + 2).to_bytes(2, "big") + rng.randbytes(payload)
        extra -= payload + 4
    return data[:position] + bytes(segments) + data[position:]


def _pad_png(data: bytes, extra: int, rng: random.Random) -> bytes:
    """A private ancillary chunk (`gwPd`) just before IEND, which decoders skip."""
    payload = rng.randbytes(max(0, extra - 12))
    chunk = struct.pack(">I", len(payload)) + b"gwPd" + payload
    chunk += struct.pack(">I", zlib.crc32(chunk[4:]))
    iend = len(data) - 12
    return data[:iend] + chunk + data[iend:]


def _pad_webp(data: bytes, extra: int, rng: random.Random) -> bytes:
    """An unknown chunk (`GWPD`) at the end of the RIFF container, whose size is updated."""
    size = max(0, extra - 8)
    size -= size % 2  # RIFF chunks are padded to even sizes
    padded = data + b"GWPD" + struct.pack("<I", size) + rng.randbytes(size)
    return padded[:4] + struct.pack("<I", len(padded) - 8) + padded[8:]


def _pad_heic(data: bytes, extra: int, rng: random.Random) -> bytes:
    """A top-level `free` box at the end of the file (ISO-BMFF readers skip free space)."""
    size = max(8, extra)
    return data + struct.pack(">I", size) + b"free" + rng.randbytes(size - 8)


_PADDERS = {"jpeg": _pad_jpeg, "png": _pad_png, "webp": _pad_webp, "heic": _pad_heic}
