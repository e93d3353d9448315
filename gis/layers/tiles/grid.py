"""The Web Mercator XYZ grid: which tiles exist and the lon/lat box a tile (with its buffer) covers.

The box selects rows through the tables' EPSG:4326 spatial index and is the area the change log
is compared with, so a tile is dirty exactly when a change's box meets what the tile draws."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import NotFound

# Half the Web Mercator world's width in metres (EPSG:3857).
ORIGIN_SHIFT = 20037508.342789244


@dataclass(frozen=True)
class TileId:
    z: int
    x: int
    y: int


def tile_id(*, z: int, x: int, y: int, max_zoom: int) -> TileId:
    """A tile that exists on the grid up to `max_zoom`, or NotFound naming what is out of range."""
    if not 0 <= z <= max_zoom:
        raise NotFound(f"No tile at zoom {z}: zooms run from 0 to {max_zoom}.")
    side = 1 << z
    if not (0 <= x < side and 0 <= y < side):
        raise NotFound(f"No tile {z}/{x}/{y}: at zoom {z}, x and y run from 0 to {side - 1}.")
    return TileId(z=z, x=x, y=y)


def _lon_lat(mx: float, my: float) -> tuple[float, float]:
    lon = mx / ORIGIN_SHIFT * 180.0
    lat = math.degrees(2 * math.atan(math.exp(my / ORIGIN_SHIFT * math.pi)) - math.pi / 2)
    return lon, lat


def buffered_bounds(tile: TileId, *, extent: int, buffer: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of the tile grown by `buffer` of `extent` units each
    side: what `ST_AsMVTGeom` keeps (geometry reaching into the buffer is drawn, clipped there)."""
    size = 2 * ORIGIN_SHIFT / (1 << tile.z)
    margin = size * buffer / extent
    west = -ORIGIN_SHIFT + tile.x * size - margin
    north = ORIGIN_SHIFT - tile.y * size + margin
    east, south = west + size + 2 * margin, north - size - 2 * margin
    (w, s), (e, n) = _lon_lat(max(west, -ORIGIN_SHIFT), max(south, -ORIGIN_SHIFT)), \
        _lon_lat(min(east, ORIGIN_SHIFT), min(north, ORIGIN_SHIFT))
    return w, s, e, n


def units_to_metres(z: int, *, extent: int, units: float) -> float:
    """`units` tile units (of `extent`) at zoom `z` in Web Mercator metres (simplification tolerance)."""
    return units * 2 * ORIGIN_SHIFT / (1 << z) / extent
