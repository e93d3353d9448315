"""The CRSs OGC API Features serves (Part 2) and the `bbox` / `bbox-crs` / `crs` parameters.

A CRS is named by its OGC URI. Axis order follows the CRS's definition, as Part 2 requires: CRS84
(the default, GeoJSON's) is longitude, latitude; `EPSG/0/4326` and `EPSG/0/4490` (CGCS2000) are
latitude, longitude, in output and in `bbox`; `EPSG/0/3857` is easting, northing.
"""

from __future__ import annotations

import math

from core.errors import InvalidQuery
from gis.geo.crs import STORAGE_OUTPUT, OutputCrs, to_storage
from gis.layers.spec import BBoxFilter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"

SUPPORTED: dict[str, OutputCrs] = {
    CRS84: STORAGE_OUTPUT,
    EPSG_URI.format(code=4326): OutputCrs(epsg=4326, lat_first=True),
    EPSG_URI.format(code=4490): OutputCrs(epsg=4490, lat_first=True),
    EPSG_URI.format(code=3857): OutputCrs(epsg=3857, lat_first=False),
}
SUPPORTED_URIS: tuple[str, ...] = tuple(SUPPORTED)

# Coordinates a geographic bbox may hold (Web Mercator's are checked after the transformation).
LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)


def parse_crs_uri(value: str | None, *, field: str) -> tuple[str, OutputCrs]:
    """(uri, CRS) of a `crs` or `bbox-crs` value (angle brackets allowed); CRS84 when absent."""
    if value is None:
        return CRS84, STORAGE_OUTPUT
    uri = value.strip().removeprefix("<").removesuffix(">")
    found = SUPPORTED.get(uri)
    if found is None:
        raise InvalidQuery(f"{field} {value!r} is not served; use one of: {', '.join(SUPPORTED_URIS)}.",
                           errors=[{"field": field, "message": "unsupported CRS"}])
    return uri, found


def _bad_bbox(message: str) -> InvalidQuery:
    return InvalidQuery(f"bbox {message}.", errors=[{"field": "bbox", "message": message}])


def parse_bbox(value: str | None, bbox_crs: str | None) -> BBoxFilter | None:
    """`bbox` (four numbers, or six with heights, which are dropped) in `bbox-crs` -> a box in
    EPSG:4326 longitude, latitude. A box across the antimeridian (west > east) is refused: send two."""
    if value is None:
        if bbox_crs is not None:
            parse_crs_uri(bbox_crs, field="bbox-crs")
        return None
    _, crs = parse_crs_uri(bbox_crs, field="bbox-crs")
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError as exc:
        raise _bad_bbox("must be numbers separated by commas") from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise _bad_bbox("must be four finite numbers (or six, with heights)")
    x0, y0, x1, y1 = numbers
    if crs.lat_first:
        x0, y0, x1, y1 = y0, x0, y1, x1
    if not (x0 < x1 and y0 < y1):
        raise _bad_bbox("must have its lower corner first (across the antimeridian: send two requests)")
    transformer = to_storage(crs.epsg)
    if transformer is not None:
        x0, y0, x1, y1 = transformer.transform_bounds(x0, y0, x1, y1)
    if not (LON_RANGE[0] <= x0 < x1 <= LON_RANGE[1] and LAT_RANGE[0] <= y0 < y1 <= LAT_RANGE[1]):
        raise _bad_bbox("lies outside the CRS's coordinate range")
    return BBoxFilter(x0, y0, x1, y1)
