"""Turning client GeoJSON into valid storage geometries, with reasons when that is impossible.

This is the one conversion point for incoming geometry: every create, update and import goes through
`parse_geometry`, so the same rules (type, validity, coordinate range, CRS) hold everywhere.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from shapely.validation import explain_validity

from core.errors import InvalidInput
from gis.crs import STORAGE_EPSG, area_of_use_contains, to_storage

GEOJSON_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _fail(message: str, field: str = "geometry") -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": message}])


def parse_geometry(
    geojson: dict[str, Any] | None,
    *,
    epsg: int = STORAGE_EPSG,
    allowed_types: frozenset[str] | None = None,
    field: str = "geometry",
) -> BaseGeometry:
    """Validate a GeoJSON geometry in `epsg` and return it as a shapely geometry in EPSG:4326.

    Raises `InvalidInput` naming the problem: missing, unknown type, wrong type for the layer,
    empty, non-finite or out-of-range coordinates, invalid (self-intersecting...) geometry.
    """
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise _fail("A GeoJSON geometry object with 'type' and 'coordinates' is required.", field)
    geom_type = geojson.get("type")
    if geom_type not in GEOJSON_TYPES:
        raise _fail(f"Unsupported geometry type {geom_type!r}.", field)
    if allowed_types is not None and geom_type not in allowed_types:
        raise _fail(f"Geometry type {geom_type} is not allowed here; expected {' or '.join(sorted(allowed_types))}.",
                    field)
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise _fail(f"Malformed {geom_type} coordinates: {exc}.", field) from exc
    if geom.is_empty:
        raise _fail("The geometry is empty.", field)
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(v) for v in coords.ravel()):
        raise _fail("Coordinates must be finite numbers.", field)

    transformer = to_storage(epsg)
    if transformer is not None:
        geom = shapely.transform(geom, transformer.transform, interleaved=False)
        coords = shapely.get_coordinates(geom)
        if not all(math.isfinite(v) for v in coords.ravel()):
            raise _fail(f"Coordinates are outside the valid range of EPSG:{epsg}.", field)
    lons, lats = coords[:, 0], coords[:, 1]
    if lons.min() < -180 or lons.max() > 180 or lats.min() < -90 or lats.max() > 90:
        hint = "" if transformer is not None else " (projected coordinates? send `crs` with their EPSG code)"
        raise _fail(f"Coordinates out of range: longitude must be within ±180 and latitude within ±90{hint}.", field)
    if transformer is not None and not area_of_use_contains(epsg, float(lons.mean()), float(lats.mean())):
        raise _fail(f"The coordinates fall outside the area where EPSG:{epsg} is defined; check the zone.", field)
    if geom.geom_type == "LineString" and len({tuple(c) for c in coords}) < 2:
        raise _fail("A line needs two distinct points.", field)
    if not geom.is_valid:
        raise _fail(f"Invalid geometry: {explain_validity(geom)}.", field)
    return geom


# The WGS84 ellipsoid for geodesic lengths, areas and offsets computed in Python.
WGS84 = Geod(ellps="WGS84")


def geodesic_distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Metres on the ellipsoid between the nearest points of two EPSG:4326 geometries (the nearest
    points are found in degrees, which is plenty for a plausibility check, not for a legal distance:
    those are measured in PostGIS)."""
    if a.intersects(b):
        return 0.0
    p, q = nearest_points(a, b)
    return float(WGS84.inv(p.x, p.y, q.x, q.y)[2])
