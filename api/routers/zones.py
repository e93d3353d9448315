"""Protection zones at /zones (derived and manual, one GeoJSON collection), with the manual-zone
and built-up-area layers managed under it."""

import base64
import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from api.dependencies import AppSettings, DbSession, page_param, parse_bbox, require
from api.geojson import GEOJSON
from api.routers.layer_routes import add_layer_routes
from core.context import Actor
from core.errors import InvalidInput
from core.permissions import Permission
from gis.zones.layers import BUILT_UP_AREAS, MANUAL_ZONES
from gis.zones.read import ZoneQuery, list_zones_json

router = APIRouter(prefix="/zones", tags=["zones"])
Reader = Annotated[Actor, Depends(require(Permission.network_read))]


def _encode(key: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"zone:{key[0]}:{key[1]}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, int]:
    try:
        prefix, rank, zone_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
        if prefix != "zone":
            raise ValueError(prefix)
        return int(rank), int(zone_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not valid; use the `next` link of the previous page.",
                           errors=[{"field": "cursor", "message": "invalid"}]) from exc


@router.get("", summary="Protection zones in force (derived from lines, and manual)", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}}})
def list_zones(request: Request, db: DbSession, _actor: Reader, settings: AppSettings,
               bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy")] = None,
               bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
               source: Annotated[Literal["derived", "manual"] | None, Query()] = None,
               line_id: Annotated[int | None, Query(ge=1)] = None,
               on_date: Annotated[date | None, Query(description="Zones in force on this day (today)")] = None,
               limit: Annotated[int | None, Query(ge=1)] = None,
               cursor: Annotated[str | None, Query()] = None) -> Response:
    page = page_param(settings, limit, None)
    query = ZoneQuery(bbox=parse_bbox(settings, bbox, bbox_crs), source=source, line_id=line_id,
                      on_date=on_date or date.today(), after=_decode(cursor) if cursor else None, limit=page.limit)
    features = list_zones_json(db=db, query=query)
    paging: dict[str, object] = {"numberReturned": len(features), "links": []}
    if len(features) == page.limit:
        next_cursor = _encode(features[-1][0])
        paging["next_cursor"] = next_cursor
        paging["links"] = [{"rel": "next", "type": GEOJSON,
                            "href": str(request.url.include_query_params(cursor=next_cursor))}]
    body = '{"type":"FeatureCollection","features":[' + ",".join(f for _, f in features) + "]," + json.dumps(paging)[1:]
    return Response(body.encode(), media_type=GEOJSON)


add_layer_routes(router, MANUAL_ZONES)
add_layer_routes(router, BUILT_UP_AREAS)
