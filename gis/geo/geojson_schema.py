"""The JSON Schema of an RFC 7946 geometry, as the published API documents request geometries.

Request models keep geometries as plain dicts because `gis.geo.geometry.parse_geometry` reads them
(strictly, with CRS, vertex and area limits, naming the exact position that is wrong). This schema
only tells clients and generated code what shape is expected, so the OpenAPI document does not say
"any object" where a geometry is meant.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import WithJsonSchema

# Two numbers (easting/longitude, northing/latitude); a third (altitude) is accepted and dropped.
_POSITION: dict[str, Any] = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}
_LINE: dict[str, Any] = {"type": "array", "items": _POSITION, "minItems": 2}
_RING: dict[str, Any] = {"type": "array", "items": _POSITION, "minItems": 4,
                         "description": "closed: the last position repeats the first"}
_POLYGON: dict[str, Any] = {"type": "array", "items": _RING, "minItems": 1}


def _geometry(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "title": kind, "required": ["type", "coordinates"], "additionalProperties": False,
            "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates,
                           "bbox": {"type": "array", "items": {"type": "number"}}}}


GEOMETRY_SCHEMA: dict[str, Any] = {
    "description": "RFC 7946 geometry, in the CRS named by the `crs` query parameter (default EPSG:4326)",
    "oneOf": [
        _geometry("Point", _POSITION),
        _geometry("LineString", _LINE),
        _geometry("Polygon", _POLYGON),
        _geometry("MultiPoint", {"type": "array", "items": _POSITION, "minItems": 1}),
        _geometry("MultiLineString", {"type": "array", "items": _LINE, "minItems": 1}),
        _geometry("MultiPolygon", {"type": "array", "items": _POLYGON, "minItems": 1}),
    ],
}

# A request geometry: a dict for `parse_geometry`, documented as RFC 7946.
GeoJSONGeometry = Annotated[dict[str, Any], WithJsonSchema(GEOMETRY_SCHEMA, mode="validation")]
