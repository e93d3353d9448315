"""Protection zones at /zones (derived and manual, one GeoJSON collection), with the manual-zone
and built-up-area layers managed under it."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from api.dependencies import (
    AppSettings,
    Now,
    ReadSession,
    decode_cursor,
    encode_cursor,
    page_param,
    parse_bbox,
    require,
)
from api.geojson import GEOJSON, collection_bytes
from api.routers.layer_routes import add_layer_routes
from core.bounds import DbInt, IsoDate
from core.context import Actor
from gis.zones.layers import BUILT_UP_AREAS, DERIVED_ZONES, MANUAL_ZONES
from gis.zones.read import ZoneQuery

router = APIRouter(prefix="/zones", tags=["zones"])
CURSOR_KIND = "zone"  # zones page by (source rank, id): derived zones first, then manual ones
Reader = Annotated[Actor, Depends(require(DERIVED_ZONES.read_permission))]


@router.get("", summary="Protection zones in force (derived from lines, and manual)", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}}})
def list_zones(request: Request, db: ReadSession, _actor: Reader, settings: AppSettings, now: Now,
               bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy")] = None,
               bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
               source: Annotated[Literal["derived", "manual"] | None, Query()] = None,
               line_id: Annotated[DbInt | None, Query(ge=1)] = None,
               on_date: Annotated[IsoDate | None, Query(description="Zones in force on this day (today)")] = None,
               limit: Annotated[DbInt | None, Query(ge=1)] = None,
               cursor: Annotated[str | None, Query()] = None) -> Response:
    page = page_param(settings, limit, None)
    after = decode_cursor(cursor, kind=CURSOR_KIND, parts=2) if cursor else None
    query = ZoneQuery(bbox=parse_bbox(settings, bbox, bbox_crs), source=source, line_id=line_id,
                      on_date=on_date or now.date(), after=after, limit=page.limit)
    features = DERIVED_ZONES.read(db=db, query=query)
    next_cursor = encode_cursor(*features[-1][0], kind=CURSOR_KIND) if features else None
    return Response(collection_bytes(request, [f for _, f in features], page.limit, next_cursor), media_type=GEOJSON)


add_layer_routes(router, MANUAL_ZONES)
add_layer_routes(router, BUILT_UP_AREAS)
