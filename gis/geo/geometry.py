"""Turning client GeoJSON into valid storage geometries, with reasons when that is impossible.

This is the one conversion point for incoming geometry: every create, update, import and screening
goes through `parse_geometry`, so the same rules hold everywhere:

- RFC 7946 strictly: positions are arrays of two numbers (an optional third, the altitude, is
  accepted and dropped: storage is 2D), never strings, booleans, NaN or infinity; rings are closed
  and have at least four positions; a line has two; the `crs` member of GeoJSON 2008 is refused
  (RFC 7946 removed it; the CRS is the `crs` query parameter), not silently ignored;
- size: at most `limits.max_vertices` positions, counted while reading, so a line of a million
  vertices is refused after reading the first few thousand (before shapely, pyproj or PostGIS
  see it); an area or length limit where the writer has one;
- the antimeridian: an edge is the shorter way between its ends (as PostGIS geography and the
  geodesic measurements take it), so a ring from 179.9° to -179.9° is a small polygon across
  ±180, not a band round the globe. Such geometries are cut at ±180 (RFC 7946 §3.1.9), so that
  planar operations (bbox queries, intersections, maps) agree with the geodesic meaning, and
  their area is computed on the cut pieces, whatever the ring's winding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely import affinity
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPolygon,
    Polygon,
    box,
    shape,
)
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import nearest_points
from shapely.validation import explain_validity

from core.errors import InvalidInput
from gis.geo.crs import STORAGE_EPSG, area_of_use_contains, to_storage

GEOJSON_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
# Larger than any coordinate of any supported CRS (metres of the widest projection are ~2e7); checked
# before the float conversion, so a 400-digit JSON integer is refused rather than overflowing.
MAX_COORDINATE = 1e9
# The WGS84 ellipsoid for geodesic lengths, areas and offsets computed in Python.
WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True)
class GeometryLimits:
    """What one writer accepts; the values come from settings (`GW_API_*`, `GW_SCREENING_*`)."""

    max_vertices: int
    max_area_m2: float | None = None
    max_length_m: float | None = None


def _fail(message: str, field: str = "geometry", reason: str | None = None) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": reason or message}])


class _Reader:
    """Reads GeoJSON coordinates strictly into plain 2D tuples, counting positions as it goes."""

    def __init__(self, field: str, max_vertices: int) -> None:
        self.field = field
        self.max_vertices = max_vertices
        self.count = 0

    def position(self, value: Any, where: str) -> tuple[float, float]:
        # Tuples as well as lists: geometries read from files (GeoPackage) come through shapely's mapping.
        if isinstance(value, list | tuple) and not value:
            raise _fail(f"{self.field}.coordinates{where} is empty; a position needs two numbers.",
                        f"{self.field}.coordinates{where}", "empty position")
        if not isinstance(value, list | tuple) or len(value) not in (2, 3):
            raise _fail(f"{self.field}.coordinates{where} must be a position: an array of two numbers "
                        f"(longitude, latitude or easting, northing), optionally a third (altitude).",
                        f"{self.field}.coordinates{where}", "not a position of 2 (or 3) numbers")
        for number in value:
            # bool is an int in Python, and JSON true/false are not numbers.
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise _fail(f"{self.field}.coordinates{where} holds {repr(number)[:40]}; coordinates must be numbers.",
                            f"{self.field}.coordinates{where}", "not a number")
            if abs(number) > MAX_COORDINATE or not math.isfinite(number):
                raise _fail(f"{self.field}.coordinates{where}: coordinates must be finite numbers within "
                            f"±{MAX_COORDINATE:g}.", f"{self.field}.coordinates{where}", "not finite")
        self.count += 1
        if self.count > self.max_vertices:
            raise _fail(f"The geometry has more than {self.max_vertices} vertices, the limit for this write; "
                        f"simplify it or split it.", self.field, f"more than {self.max_vertices} vertices")
        return float(value[0]), float(value[1])

    def array(self, value: Any, where: str, what: str) -> list[Any] | tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise _fail(f"{self.field}.coordinates{where} must be an array of {what}.",
                        f"{self.field}.coordinates{where}", f"not an array of {what}")
        return value

    def line(self, value: Any, where: str) -> list[tuple[float, float]]:
        points = [self.position(p, f"{where}[{i}]") for i, p in enumerate(self.array(value, where, "positions"))]
        if len(points) < 2:
            raise _fail(f"{self.field}.coordinates{where}: a line needs at least two positions.",
                        f"{self.field}.coordinates{where}", "fewer than 2 positions")
        return points

    def ring(self, value: Any, where: str) -> list[tuple[float, float]]:
        raw = self.array(value, where, "positions")
        points = [self.position(p, f"{where}[{i}]") for i, p in enumerate(raw)]
        if len(points) < 4:
            raise _fail(f"{self.field}.coordinates{where}: a polygon ring needs at least four positions "
                        f"(the first repeated as the last).", f"{self.field}.coordinates{where}",
                        "fewer than 4 positions")
        if list(raw[0]) != list(raw[-1]):
            raise _fail(f"{self.field}.coordinates{where}: the ring is not closed; its last position must repeat "
                        f"the first (RFC 7946 §3.1.6).", f"{self.field}.coordinates{where}", "ring not closed")
        return points

    def polygon(self, value: Any, where: str) -> list[list[tuple[float, float]]]:
        rings = [self.ring(r, f"{where}[{i}]") for i, r in enumerate(self.array(value, where, "rings"))]
        if not rings:
            raise _fail("The geometry is empty.", self.field, "empty")
        return rings

    def read(self, geom_type: str, coordinates: Any) -> Any:
        if geom_type == "Point":
            return self.position(coordinates, "")
        if geom_type == "LineString":
            return self.line(coordinates, "")
        if geom_type == "Polygon":
            return self.polygon(coordinates, "")
        parts = self.array(coordinates, "", "parts")
        if not parts:
            raise _fail("The geometry is empty.", self.field, "empty")
        if geom_type == "MultiPoint":
            return [self.position(p, f"[{i}]") for i, p in enumerate(parts)]
        if geom_type == "MultiLineString":
            return [self.line(p, f"[{i}]") for i, p in enumerate(parts)]
        return [self.polygon(p, f"[{i}]") for i, p in enumerate(parts)]


def parse_geometry(
    geojson: dict[str, Any] | None,
    *,
    epsg: int = STORAGE_EPSG,
    allowed_types: frozenset[str] | None = None,
    field: str = "geometry",
    limits: GeometryLimits,
) -> BaseGeometry:
    """Validate a GeoJSON geometry in `epsg` and return it as a shapely geometry in EPSG:4326.

    Raises `InvalidInput` naming the field and the problem: missing, unknown type, wrong type for
    the layer, not RFC 7946, too many vertices, empty, out-of-range coordinates, invalid
    (self-intersecting, hole outside its shell...), too large.
    """
    if not isinstance(geojson, dict) or "type" not in geojson or "coordinates" not in geojson:
        raise _fail("A GeoJSON geometry object with 'type' and 'coordinates' is required.", field)
    if "crs" in geojson:
        raise _fail("GeoJSON geometries have no 'crs' member since RFC 7946; send coordinates in EPSG:4326, or "
                    "name their CRS with the `crs` query parameter (e.g. ?crs=EPSG:4490).",
                    f"{field}.crs", "not allowed; use the crs query parameter")
    geom_type = geojson.get("type")
    if geom_type not in GEOJSON_TYPES:
        raise _fail(f"Unsupported geometry type {geom_type!r}.", f"{field}.type")
    if allowed_types is not None and geom_type not in allowed_types:
        raise _fail(f"Geometry type {geom_type} is not allowed here; expected {' or '.join(sorted(allowed_types))}.",
                    f"{field}.type")
    coordinates = _Reader(field, limits.max_vertices).read(geom_type, geojson["coordinates"])
    try:
        geom = shape({"type": geom_type, "coordinates": coordinates})
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise _fail(f"Malformed {geom_type} coordinates: {exc}.", field) from exc

    transformer = to_storage(epsg)
    if transformer is not None:
        geom = shapely.transform(geom, transformer.transform, interleaved=False)
        if not np.isfinite(shapely.get_coordinates(geom)).all():
            raise _fail(f"Coordinates are outside the valid range of EPSG:{epsg}.", field)
    coords = shapely.get_coordinates(geom)
    lons, lats = coords[:, 0], coords[:, 1]
    if lons.min() < -180 or lons.max() > 180 or lats.min() < -90 or lats.max() > 90:
        hint = "" if transformer is not None else " (projected coordinates? send `crs` with their EPSG code)"
        raise _fail(f"Coordinates out of range: longitude must be within ±180 and latitude within ±90{hint}.", field)
    if transformer is not None and not area_of_use_contains(epsg, float(lons.mean()), float(lats.mean())):
        raise _fail(f"The coordinates fall outside the area where EPSG:{epsg} is defined; check the zone.", field)
    if geom.geom_type == "LineString" and len({tuple(c) for c in coords}) < 2:
        raise _fail("A line needs two distinct points.", field)
    multi = geom.geom_type if geom.geom_type.startswith("Multi") else f"Multi{geom.geom_type}"
    if (allowed_types is None or multi in allowed_types) and crosses_antimeridian(geom):
        # A layer of single lines keeps a line across ±180 whole: its zones and distances are
        # computed in geography, which takes every edge the short way.
        geom = split_at_antimeridian(geom, field=field)
    if not geom.is_valid:
        raise _fail(f"Invalid geometry: {explain_validity(geom)}.", field)
    check_extent(geom, limits, field)
    return geom


# --- the antimeridian ---------------------------------------------------------------------------

def _edges_dlon(geom: BaseGeometry) -> list[np.ndarray]:
    """Longitude steps along every line and ring of `geom` (points have none)."""
    steps = []
    for part in getattr(geom, "geoms", [geom]):
        if isinstance(part, LineString):
            sequences = [part.coords]
        elif isinstance(part, Polygon):
            sequences = [part.exterior.coords, *(r.coords for r in part.interiors)]
        else:
            continue
        steps += [np.diff(np.asarray(seq)[:, 0]) for seq in sequences]
    return steps


def crosses_antimeridian(geom: BaseGeometry) -> bool:
    """Whether some edge goes the short way across ±180 (its ends are more than 180° apart)."""
    return any((np.abs(d) > 180).any() for d in _edges_dlon(geom))


def _shift_east(xy: np.ndarray) -> np.ndarray:
    out = xy.copy()
    out[:, 0] = np.where(out[:, 0] < 0, out[:, 0] + 360, out[:, 0])
    return out


def _same_dimension(geom: BaseGeometry, dimension: int) -> list[BaseGeometry]:
    parts = getattr(geom, "geoms", [geom])
    return [p for p in parts if not p.is_empty and shapely.get_dimensions(p) == dimension]


def split_at_antimeridian(geom: BaseGeometry, *, field: str = "geometry") -> BaseGeometry:
    """The geometry with every edge taken the short way, cut at ±180 into a Multi* geometry.

    Longitudes are moved to 0..360 (west ones +360), which makes the short-way edges continuous; a
    geometry still spanning more than 180° there goes more than half round the globe and is
    refused. The pieces east and west of 180 are then cut apart and the west one moved back."""
    shifted = shapely.transform(geom, _shift_east)
    if crosses_antimeridian(shifted):
        raise _fail("The geometry spans more than half the globe in longitude.", field, "too large")
    dimension = shapely.get_dimensions(geom)
    east = _same_dimension(shifted.intersection(box(-1, -90, 180, 90)), dimension)
    west = [affinity.translate(p, xoff=-360)
            for p in _same_dimension(shifted.intersection(box(180, -90, 361, 90)), dimension)]
    parts = [single for piece in east + west for single in getattr(piece, "geoms", [piece])]
    make: Callable[[list[Any]], BaseGeometry] = MultiPolygon if dimension == 2 else MultiLineString
    return make(parts)


# --- size -------------------------------------------------------------------------------------

def geodesic_area_m2(geometry: BaseGeometry) -> float:
    """Area on the ellipsoid in m², whatever the winding of the rings. pyproj signs a ring's area by
    its winding and sums the parts as they are, so two polygons drawn in opposite directions would
    cancel out (and a hole wound like its shell add to the area): every polygon is oriented first,
    shell anticlockwise and holes clockwise. Geometries across ±180 must be cut first
    (`split_at_antimeridian`): uncut, the planar winding `orient` sees is the reverse of the
    geodesic one."""
    if isinstance(geometry, Polygon):
        return abs(float(WGS84.geometry_area_perimeter(orient(geometry, sign=1.0))[0]))
    if isinstance(geometry, MultiPolygon):
        return sum(geodesic_area_m2(part) for part in geometry.geoms)
    return 0.0


def check_extent(geometry: BaseGeometry, limits: GeometryLimits, field: str = "geometry") -> None:
    """The writer's vertex, area and length limits on a parsed geometry (EPSG:4326, cut at ±180)."""
    if shapely.get_num_coordinates(geometry) > limits.max_vertices:
        raise _fail(f"The geometry has more than {limits.max_vertices} vertices, the limit for this write; "
                    f"simplify it or split it.", field, f"more than {limits.max_vertices} vertices")
    if limits.max_area_m2 is not None:
        area_m2 = geodesic_area_m2(geometry)
        if area_m2 > limits.max_area_m2:
            raise _fail(f"The area is {area_m2 / 1e6:.2f} km², more than the {limits.max_area_m2 / 1e6:g} km² "
                        f"accepted here; split it.", field, f"area over {limits.max_area_m2:g} m²")
    if limits.max_length_m is not None and geometry.geom_type in {"LineString", "MultiLineString"}:
        length_m = WGS84.geometry_length(geometry)
        if length_m > limits.max_length_m:
            raise _fail(f"The line is longer than {limits.max_length_m / 1000:g} km; split it.", field,
                        f"length over {limits.max_length_m:g} m")


def geodesic_distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Metres on the ellipsoid between the nearest points of two EPSG:4326 geometries (the nearest
    points are found in degrees, which is plenty for a plausibility check, not for a legal distance:
    those are measured in PostGIS)."""
    if a.intersects(b):
        return 0.0
    p, q = nearest_points(a, b)
    return float(WGS84.inv(p.x, p.y, q.x, q.y)[2])
