"""Roads from a GeoPackage: a LineString or MultiLineString layer (read by `gis.imports.geofile`),
its class in a column named `highway`, `road_class`, `fclass` or `class` (an OSM value, or a name
`data/road_classes.json` maps onto one), an optional `oneway` (OSM values, or F/T/B) and `name`.
Coordinates are reprojected to EPSG:4326 and rounded to 1e-7 degree (~1 cm): vertices at the same
rounded place are one junction. Every feature is checked before anything is kept; the refusal
names each bad feature."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

from pyproj import Transformer

from core.errors import InvalidInput
from gis.geo.crs import to_storage
from gis.imports import geofile
from routing.roads.lines import ParsedRoads, RoadLine, oneway_direction, road_class, without_repeats

CLASS_COLUMNS = ("highway", "road_class", "fclass", "class")
ID_COLUMNS = ("external_id", "osm_id", "id")
COORDINATE_DECIMALS = 7
MAX_REPORTED_ERRORS = 1000


class _Problems(list[dict[str, str]]):
    def add(self, index: int, message: str) -> None:
        self.append({"field": f"features[{index}]", "message": message})


def _column(properties: dict[str, Any], names: tuple[str, ...]) -> Any:
    lowered = {str(k).casefold(): v for k, v in properties.items()}
    return next((lowered[name] for name in names if name in lowered), None)


def _parts(geometry: dict[str, Any] | None) -> list[list[list[float]]] | str:
    """The line parts of a geometry, or what is wrong with it."""
    kind = (geometry or {}).get("type")
    if kind == "LineString":
        return [geometry["coordinates"]] if geometry else []
    if kind == "MultiLineString":
        return list(geometry["coordinates"]) if geometry else []
    return f"not a line ({kind or 'no geometry'})"


def _project(part: list[list[float]], transformer: Transformer | None) -> list[tuple[float, float]]:
    xs, ys = [float(p[0]) for p in part], [float(p[1]) for p in part]
    if transformer is not None:
        xs, ys = (list(v) for v in transformer.transform(xs, ys))
    return [(round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS)) for x, y in zip(xs, ys, strict=True)]


def _valid(coordinates: list[tuple[float, float]]) -> bool:
    return all(math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90
               for x, y in coordinates)


def read_gpkg(data: bytes, filename: str) -> ParsedRoads:
    """The roads of a GeoPackage; raises `InvalidInput` naming every feature that is not a usable road."""
    source = geofile.read_source(data, filename)
    if not source.features:
        raise InvalidInput("The GeoPackage has no features.", errors=[{"field": "file", "message": "empty"}])
    transformer = to_storage(source.epsg)
    parsed, problems = ParsedRoads(file_format="gpkg"), _Problems()
    for index, feature in enumerate(source.features):
        properties = feature.get("properties") or {}
        parts = _parts(feature.get("geometry"))
        cls_value = _column(properties, CLASS_COLUMNS)
        cls = road_class(cls_value)
        direction = oneway_direction(_column(properties, ("oneway",)))
        if isinstance(parts, str):
            problems.add(index, parts)
        if cls is None:
            problems.add(index, f"unknown road class {cls_value!r}" if cls_value is not None
                         else f"no road class (a column {', '.join(CLASS_COLUMNS)})")
        if direction is None:
            problems.add(index, f"oneway {_column(properties, ('oneway',))!r} is not a direction")
        if isinstance(parts, str) or cls is None or direction is None:
            continue
        external_id = str(_column(properties, ID_COLUMNS) or index + 1)[:60]
        name = str(_column(properties, ("name",)) or "")[:200]
        for part in parts:
            coordinates = _project(part, transformer)
            if not _valid(coordinates):
                problems.add(index, "coordinates outside longitude/latitude range after reprojection")
                continue
            keys: list[Hashable] = list(coordinates)
            unique_keys, unique_coordinates = without_repeats(keys, coordinates)
            if len(unique_keys) < 2:
                problems.add(index, "a line with fewer than two distinct points")
                continue
            if direction < 0:
                unique_keys, unique_coordinates = unique_keys[::-1], unique_coordinates[::-1]
            parsed.lines.append(RoadLine(external_id=external_id, road_class=cls, name=name, oneway=direction != 0,
                                         keys=unique_keys, coordinates=unique_coordinates))
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) in the road file; nothing was imported.",
                           errors=problems[:MAX_REPORTED_ERRORS])
    return parsed
