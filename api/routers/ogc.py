"""OGC API Features at /ogc (outside /api/v1: GIS clients are given this one URL): landing page,
conformance, collections, queryables, items and single items, in JSON (GeoJSON) or HTML (`f=html`,
or a browser's Accept). Each route makes one call to `gis.layers.features.service`.

Every route needs a signed-in user: a sign-in token, or a personal access token as Bearer or as
the HTTP Basic password (what QGIS and GDAL store). Bad `bbox`, `crs`, `limit`, cursors and
unknown parameters are 400 problem+json, as OGC API Features asks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from api.dependencies import AppSettings, Catalogue, CurrentActor, DbSession, Now
from core.errors import InvalidQuery
from gis.layers.features import service
from gis.layers.features.crs import SUPPORTED_URIS
from gis.layers.features.service import ITEMS_PARAMETERS, Format, ItemsQuery, Rendered, Where
from gis.layers.features.settings import features_settings

router = APIRouter(prefix="/ogc", tags=["ogc"])

BAD_REQUEST: dict[int | str, dict[str, Any]] = {400: {"description": "A parameter the service cannot use (bbox, crs, limit, cursor, unknown name)"}}
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"description": "The role may not read this collection's layer"}}
FEATURES: dict[int | str, dict[str, Any]] = {200: {"content": {"application/geo+json": {}, "text/html": {}}},
                                             **BAD_REQUEST, **FORBIDDEN}
DOCUMENT: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/html": {}}},
                                             **BAD_REQUEST}
COLLECTION: dict[int | str, dict[str, Any]] = {**DOCUMENT, **FORBIDDEN}


# The query parameters' documented form (the OpenAPI document tells clients what is served); the values
# are checked by the service, which answers 400 as OGC API Features asks, not FastAPI's 422.
FORMATS = {"enum": ["json", "html"]}
CRS_URIS = {"enum": list(SUPPORTED_URIS)}
POSITIVE = {"pattern": "^[1-9][0-9]{0,17}$"}
BBOX = {"pattern": r"^-?[0-9.]+(,-?[0-9.]+){3}(,-?[0-9.]+){0,2}$"}
CURSOR = {"pattern": r"^[0-9]{1,18}(\.[0-9]{1,18})?$"}


async def output_format(f: Annotated[str | None, Query(description="json or html", json_schema_extra=FORMATS)] = None,
                        accept: Annotated[str | None, Header(include_in_schema=False)] = None) -> Format:
    """`f` when given; otherwise HTML for a browser (Accept names text/html), else JSON."""
    if f is None:
        return "html" if accept and "text/html" in accept else "json"
    if f not in ("json", "html"):
        raise InvalidQuery("f must be json or html.", errors=[{"field": "f", "message": "json or html"}])
    return "json" if f == "json" else "html"


OutputFormat = Annotated[Format, Depends(output_format)]


def _where(request: Request) -> Where:
    return Where(root=str(request.url_for("ogc_landing")).rstrip("/"), url=str(request.url))


def _send(rendered: Rendered) -> Response:
    return Response(rendered.body, media_type=rendered.media_type, headers=rendered.headers)


@router.get("", name="ogc_landing", response_class=Response, responses=DOCUMENT, summary="OGC API landing page")
def landing(request: Request, _actor: CurrentActor, fmt: OutputFormat, settings: AppSettings) -> Response:
    return _send(service.landing(settings=features_settings(settings), where=_where(request), fmt=fmt,
                                 openapi_url=str(request.url_for("openapi"))))


@router.get("/conformance", response_class=Response, responses=DOCUMENT, summary="Conformance classes")
def conformance(request: Request, _actor: CurrentActor, fmt: OutputFormat) -> Response:
    return _send(service.conformance(where=_where(request), fmt=fmt))


@router.get("/collections", response_class=Response, responses=DOCUMENT,
            summary="The collections the caller may read")
def collections(request: Request, layers: Catalogue, db: DbSession, actor: CurrentActor,
                fmt: OutputFormat) -> Response:
    return _send(service.collections(db=db, layers=layers, actor=actor, where=_where(request), fmt=fmt))


@router.get("/collections/{collection_id}", response_class=Response, responses=COLLECTION, summary="One collection")
def collection(collection_id: str, request: Request, layers: Catalogue, db: DbSession, actor: CurrentActor,
               fmt: OutputFormat) -> Response:
    return _send(service.collection(layers=layers, db=db, actor=actor, where=_where(request), fmt=fmt,
                                    collection_id=collection_id))


@router.get("/collections/{collection_id}/queryables", response_class=Response, responses=COLLECTION,
            summary="The properties items can be filtered by (JSON Schema)")
def queryables(collection_id: str, request: Request, layers: Catalogue, actor: CurrentActor,
               fmt: OutputFormat) -> Response:
    return _send(service.queryables(layers=layers, actor=actor, where=_where(request), fmt=fmt,
                                    collection_id=collection_id))


@router.get("/collections/{collection_id}/schema", response_class=Response, responses=COLLECTION,
            summary="The schema of a collection's features (JSON Schema, typed from its columns)")
def feature_schema(collection_id: str, request: Request, layers: Catalogue, actor: CurrentActor,
                   fmt: OutputFormat) -> Response:
    return _send(service.feature_schema(layers=layers, actor=actor, where=_where(request), fmt=fmt,
                                        collection_id=collection_id))


@router.get("/collections/{collection_id}/items", response_class=Response, responses=FEATURES,
            summary="A page of a collection's features")
def items(collection_id: str, request: Request, layers: Catalogue, db: DbSession, actor: CurrentActor,
          fmt: OutputFormat, settings: AppSettings, now: Now,
          limit: Annotated[str | None, Query(description="Page size (default GW_OGC_DEFAULT_LIMIT; more than "
                                                         "GW_OGC_MAX_LIMIT is served as that many)",
                                             json_schema_extra=POSITIVE)] = None,
          bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs (axis order of "
                                                        "the CRS: lat,lon for EPSG:4326)",
                                            json_schema_extra=BBOX)] = None,
          bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description="CRS URI of bbox (CRS84)",
                                                json_schema_extra=CRS_URIS)] = None,
          crs: Annotated[str | None, Query(description="CRS URI of the output (CRS84)",
                                           json_schema_extra=CRS_URIS)] = None,
          cursor: Annotated[str | None, Query(description="From the previous page's next link",
                                              json_schema_extra=CURSOR)] = None) -> Response:
    """Other query parameters are property filters (`?nominal_kv=10`; see the collection's queryables)."""
    filters = {k: v for k, v in request.query_params.multi_items() if k not in ITEMS_PARAMETERS}
    query = ItemsQuery(limit=limit, bbox=bbox, bbox_crs=bbox_crs, crs=crs, cursor=cursor, filters=filters)
    return _send(service.items(layers=layers, db=db, actor=actor, settings=features_settings(settings),
                               where=_where(request), fmt=fmt, collection_id=collection_id, query=query, now=now))


@router.get("/collections/{collection_id}/items/{feature_id}", response_class=Response, responses=FEATURES,
            summary="One feature")
def item(collection_id: str, feature_id: str, request: Request, layers: Catalogue, db: DbSession,
         actor: CurrentActor, fmt: OutputFormat, now: Now,
         crs: Annotated[str | None, Query(description="CRS URI of the output (CRS84)",
                                          json_schema_extra=CRS_URIS)] = None) -> Response:
    return _send(service.item(layers=layers, db=db, actor=actor, where=_where(request), fmt=fmt,
                              collection_id=collection_id, feature_id=feature_id, crs=crs, now=now))
