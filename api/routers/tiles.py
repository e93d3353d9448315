"""Vector tiles at /tiles (outside /api/v1, where map clients look for them): MVT tiles, TileJSON
per layer and the MapLibre style. Every route needs a signed-in user; a layer needs its own read
permission, checked here before any cache is consulted."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from api.compression import CompressionSettings, choose_encoding, compress
from api.dependencies import AppSettings, Cache, CurrentActor, ReadSession
from core.bounds import DbInt
from core.errors import NotFound, PermissionDenied
from core.permissions import has_permission
from gis.layers.tiles import documents, service
from gis.layers.tiles.grid import TileId, tile_id
from gis.layers.tiles.settings import tile_settings
from gis.layers.tiles.spec import TileLayer

# Dependencies and handlers that do no I/O are `async def`: each plain `def` is a trip through the
# thread pool, and on a warm tile those trips cost more than the tile (see api.dependencies).
router = APIRouter(prefix="/tiles", tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"
# Tiles change with the data: a browser keeps its copy but asks each time (If-None-Match -> 304).
REVALIDATE = "private, no-cache"


def _layers(request: Request) -> dict[str, TileLayer]:
    layers: dict[str, TileLayer] = request.app.state.tile_layers
    return layers


async def require_layer_read(request: Request, actor: CurrentActor,
                             layer: Annotated[str, Path(description="A tile layer, e.g. lines")]) -> TileLayer:
    """The tile layer named in the path, if the reader may read it (403 otherwise)."""
    found = _layers(request).get(layer)
    if found is None:
        raise NotFound(f"No tile layer {layer!r}; there are: {', '.join(_layers(request))}.")
    if not has_permission(actor.role, found.read_permission):
        raise PermissionDenied(f"Role {actor.role} may not read {layer} (needs {found.read_permission}).")
    return found


ReadableLayer = Annotated[TileLayer, Depends(require_layer_read)]


async def tile_coordinates(settings: AppSettings, z: Annotated[DbInt, Path()], x: Annotated[DbInt, Path()],
                           y: Annotated[DbInt, Path()]) -> TileId:
    """A tile on the grid (404 otherwise); bounded to 64 bits like every integer a client sends."""
    return tile_id(z=z, x=x, y=y, max_zoom=tile_settings(settings).max_zoom)


@router.get("/style.json", summary="MapLibre style of every tile layer the reader may see")
async def style(request: Request, actor: CurrentActor) -> dict[str, object]:
    return documents.style(layers=_layers(request), role=actor.role, base_url=str(request.base_url))


@router.get("/{layer}.json", summary="TileJSON of one tile layer")
async def layer_tilejson(request: Request, layer: ReadableLayer) -> dict[str, object]:
    return documents.tilejson(layer=layer, base_url=str(request.base_url))


async def tile_encoder(settings: AppSettings,
                       accept_encoding: Annotated[str | None, Header()] = None) -> service.Encoder | None:
    """The compression the client accepts, applied by the tile cache once per tile, not per request."""
    coding = choose_encoding(accept_encoding)
    if coding is None:
        return None
    return service.Encoder(coding, partial(compress, coding=coding, settings=settings.section(CompressionSettings)))


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="One vector tile (Mapbox Vector Tile, Web Mercator XYZ)",
            response_class=Response, responses={200: {"content": {MVT: {}}}, 304: {"description": "Not modified"}})
def tile(layer: ReadableLayer, coordinates: Annotated[TileId, Depends(tile_coordinates)], db: ReadSession,
         cache: Cache, settings: AppSettings,
         encoder: Annotated[service.Encoder | None, Depends(tile_encoder)],
         if_none_match: Annotated[str | None, Header()] = None) -> Response:
    found = service.get_tile(db=db, cache=cache, layer=layer, tile=coordinates, if_none_match=if_none_match,
                             cache_ttl_s=tile_settings(settings).cache_ttl_s, encoder=encoder)
    headers = {"ETag": found.etag, "Cache-Control": REVALIDATE, "Vary": "Accept-Encoding"}
    if found.content is None:
        return Response(status_code=304, headers=headers)
    if found.encoding:
        headers["Content-Encoding"] = found.encoding
    return Response(found.content, media_type=MVT, headers=headers)
