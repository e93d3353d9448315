"""Coordinate reference systems: parse what clients send, transform to storage CRS (EPSG:4326).

Every layer is stored in WGS84 longitude/latitude. Clients may send coordinates in any EPSG CRS
pyproj knows - CGCS2000 (EPSG:4490) and its Gauss-Krueger zones (e.g. EPSG:4547), Web Mercator
(3857), UTM zones (326xx/327xx) - and name it with `crs`. Distances are never computed in degrees:
see `gis.measure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from core.errors import InvalidInput

STORAGE_EPSG = 4326


@dataclass(frozen=True, slots=True)
class OutputCrs:
    """The CRS features are written in, and whether positions are (lat, lon) rather than (x, y):
    EPSG:4326 and EPSG:4490 named by their OGC URIs have latitude first (OGC API Features Part 2);
    GeoJSON's CRS84 and projected CRSs (easting, northing) do not."""

    epsg: int = STORAGE_EPSG
    lat_first: bool = False


STORAGE_OUTPUT = OutputCrs()


@lru_cache(maxsize=256)
def parse_crs(value: str | int | None) -> int:
    """Return the EPSG code for a CRS given as 4490, "EPSG:4490" or an OGC URN/URL.

    `None` and the GeoJSON default (OGC CRS84) mean storage CRS. Unknown or non-EPSG CRSs are
    rejected: a wrong guess would move assets silently.
    """
    if value is None or str(value).strip() == "":
        return STORAGE_EPSG
    text = str(value).strip()
    if text.upper() in {"CRS84", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84",
                        "HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84"}:
        return STORAGE_EPSG
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        crs = CRS.from_user_input(text)
    except CRSError as exc:
        raise InvalidInput(f"Unknown coordinate reference system {value!r}.",
                           errors=[{"field": "crs", "message": "not a known CRS"}]) from exc
    if not _is_2d_horizontal(crs):
        raise InvalidInput(f"Coordinate reference system {value!r} is a {crs.type_name}; send a 2D geographic or "
                           f"projected CRS (e.g. EPSG:4326, EPSG:4490, a UTM or Gauss-Krüger zone).",
                           errors=[{"field": "crs", "message": "not a 2D geographic or projected CRS"}])
    epsg = crs.to_epsg(min_confidence=100)
    if epsg is None:
        raise InvalidInput(f"Coordinate reference system {value!r} has no EPSG code; send an EPSG code.",
                           errors=[{"field": "crs", "message": "no EPSG code"}])
    return epsg


def _is_2d_horizontal(crs: CRS) -> bool:
    """Only CRSs whose two coordinates are a position on the map: geographic 2D (lon/lat) or projected
    (easting/northing). Geocentric (X, Y, Z of EPSG:4978), 3D geographic, vertical, compound and
    engineering (local) CRSs are refused: two numbers in them are not a place on the ellipsoid."""
    if crs.is_compound or crs.is_geocentric or crs.is_vertical or crs.is_engineering:
        return False
    return (crs.is_geographic or crs.is_projected) and len(crs.axis_info) == 2


@lru_cache(maxsize=64)
def _transformer(source_epsg: int, target_epsg: int) -> Transformer:
    # always_xy: GeoJSON order (x=lon/easting, y=lat/northing) whatever the CRS's axis order says.
    return Transformer.from_crs(source_epsg, target_epsg, always_xy=True)


def to_storage(source_epsg: int) -> Transformer | None:
    """The transformer into EPSG:4326, or None when no transformation is needed."""
    if source_epsg == STORAGE_EPSG:
        return None
    return _transformer(source_epsg, STORAGE_EPSG)


# Zone edges are soft in practice (surveys run a little past them), so a point this many degrees
# outside a CRS's published area of use is still accepted; further out it is a wrong-zone mistake.
AREA_OF_USE_MARGIN_DEG = 1.0


@lru_cache(maxsize=64)
def _area_of_use(epsg: int) -> tuple[float, float, float, float] | None:
    area = CRS.from_epsg(epsg).area_of_use
    return None if area is None else (area.west, area.south, area.east, area.north)


def area_of_use_contains(epsg: int, lon: float, lat: float) -> bool:
    """Whether a WGS84 point lies in the CRS's published area of use (a check for swapped zones)."""
    area = _area_of_use(epsg)
    if area is None:
        return True
    west, south, east, north = area
    m = AREA_OF_USE_MARGIN_DEG
    return west - m <= lon <= east + m and south - m <= lat <= north + m
