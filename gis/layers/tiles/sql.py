"""The tile statements: a tile's MVT bytes and its version (from the change log) in one round trip,
and the version alone (what a cached tile or a 304 needs).

Built once per layer and zoom band (what the detail rules and simplification depend on); the tile
coordinates, box and tolerance travel as bound parameters. The shape is tipg's (`ST_AsMVTGeom` in a
subquery wrapped by `ST_AsMVT`), with the rows picked through the EPSG:4326 spatial index by the
tile's buffered lon/lat box, and no feature cap: every row the spec draws at that zoom is in the tile.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Float, Integer, Select, Text, bindparam, cast, func, literal, select, true
from sqlalchemy.types import Date, DateTime

from gis.layers.tiles.models import TileChange, TileState
from gis.layers.tiles.spec import WEB_MERCATOR, TileLayer

BOX = ("west", "south", "east", "north")


def _box() -> Any:
    return func.ST_MakeEnvelope(*(bindparam(name, type_=Float) for name in BOX), 4326)


def _version_columns(layer: TileLayer) -> list[Any]:
    """Count and newest id of the changes over the tile's box, and the log's epoch."""
    changes = (select(func.count().label("changes"), func.coalesce(func.max(TileChange.id), 0).label("last"))
               .where(TileChange.source == layer.source.table, TileChange.bbox.op("&&")(_box()))
               .subquery("changes"))
    epoch = select(cast(TileState.epoch, Text)).where(TileState.id == 1).scalar_subquery()
    return [changes.c.changes, changes.c.last, epoch.label("epoch")]


@lru_cache(maxsize=64)
def version_statement(layer: TileLayer) -> Select[Any]:
    return select(*_version_columns(layer))


def _attribute(layer: TileLayer, name: str) -> Any:
    column = layer.source.column(name)
    # MVT values are strings, numbers and booleans: dates and times go as ISO text.
    if isinstance(column.type, DateTime):
        return func.to_char(func.timezone("UTC", column), literal('YYYY-MM-DD"T"HH24:MI:SS"Z"')).label(name)
    if isinstance(column.type, Date):
        return cast(column, Text).label(name)
    return column.label(name)


@lru_cache(maxsize=1024)
def tile_statement(layer: TileLayer, hidden: tuple[Any, ...], simplified: bool) -> Select[Any]:
    """The MVT of one tile and its version. `hidden`: the detail rules in force at this zoom;
    `simplified`: whether the zoom has a tolerance (bound as `tolerance`, in metres)."""
    source = layer.source
    model = source.model
    geom = func.ST_Transform(source.column(source.geometry_column), WEB_MERCATOR)
    if simplified:
        geom = func.ST_Simplify(geom, bindparam("tolerance", type_=Float))
    envelope = func.ST_TileEnvelope(bindparam("z", type_=Integer), bindparam("x", type_=Integer),
                                    bindparam("y", type_=Integer))
    mvt_geom = func.ST_AsMVTGeom(geom, envelope, layer.extent, layer.buffer, true()).label("geom")
    # `ST_AsMVT` takes the MVT feature id from `mvt_id` and drops that column from the properties,
    # so the contract's property `id` is a column of its own.
    columns = [model.id.label("mvt_id"), model.id.label("id"), *(_attribute(layer, name) for name in layer.attributes),
               *(layer.source.column(column).is_not(None).label(flag) for flag, column in layer.flags), mvt_geom]
    rows = select(*columns).where(source.column(source.geometry_column).op("&&")(_box()))
    if hasattr(model, "deleted_at"):
        rows = rows.where(model.deleted_at.is_(None))
    for detail in hidden:
        rows = rows.where(source.column(detail.column) >= detail.below)
    features = rows.subquery("features")
    drawn = select(features).where(features.c.geom.is_not(None)).subquery("drawn")
    mvt = (select(func.coalesce(func.ST_AsMVT(drawn.table_valued(), layer.name, layer.extent, "geom", "mvt_id"),
                                literal(b"")))
           .scalar_subquery())
    return select(mvt.label("tile"), *_version_columns(layer))
