"""Builds the five standard routes (list, get, create, update, delete) for one map layer.

Written without `from __future__ import annotations` on purpose: FastAPI reads the annotations of
these closures at runtime, and they refer to the layer's own schema classes.
"""

from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from api import geojson
from api.dependencies import (
    AppSettings,
    DbSession,
    ExpectedVersion,
    InputCrs,
    ReadSession,
    page_param,
    parse_bbox,
    require,
)
from api.http import etag
from core.bounds import DbId
from core.context import Actor
from gis.layers import service, use_cases
from gis.layers.schemas import FeatureIn as LayerFeatureIn
from gis.layers.schemas import FeaturePatchIn, ListQuery
from gis.layers.spec import LayerSpec

GEOJSON_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {geojson.GEOJSON: {}}}}


def add_layer_routes(router: APIRouter, layer: LayerSpec, *, prefix: str = "",
                     extra_list_filters: Callable[[Any], dict[str, Any]] | None = None) -> None:
    """Register list/get/create/update/delete for `layer` under `{prefix}/{layer.name}`.

    Lists are written by the database, with the layer's privacy rule (if any) applied in SQL;
    single features get the same rule in Python."""
    path = f"{prefix}/{layer.name}"
    Reader = Annotated[Actor, Depends(require(layer.read_permission))]
    Writer = Annotated[Actor, Depends(require(layer.write_permission))]
    QueryModel = layer.query
    FeatureIn = layer.feature_in

    def respond(record: service.FeatureRecord, status_code: int = 200) -> JSONResponse:
        return JSONResponse(geojson.feature(record), status_code=status_code, media_type=geojson.GEOJSON,
                            headers={"ETag": etag(record.version)})

    @router.get(path, summary=f"List {layer.name}", responses=GEOJSON_RESPONSE, response_class=JSONResponse)
    def list_layer(request: Request, db: ReadSession, actor: Reader, settings: AppSettings,
                   query_params: Annotated[QueryModel, Query()]) -> Response:  # type: ignore[valid-type]
        query = cast(ListQuery, query_params)
        page = page_param(settings, query.limit, query.cursor)
        extra = extra_list_filters(query) if extra_list_filters else {}
        features = service.list_features_for(db=db, actor=actor, layer=layer, filters=query.attribute_filters(),
                                             bbox=parse_bbox(settings, query.bbox, query.bbox_crs),
                                             after_id=page.after_id, limit=page.limit, **extra)
        return Response(geojson.feature_collection_bytes(request, features, page.limit), media_type=geojson.GEOJSON)

    @router.get(path + "/{feature_id:int}", summary=f"Get one of {layer.name}", responses=GEOJSON_RESPONSE,
                response_class=JSONResponse)
    def get_one(feature_id: DbId, db: DbSession, actor: Reader) -> JSONResponse:
        return respond(use_cases.read_feature(db=db, actor=actor, layer=layer, feature_id=feature_id))

    @router.post(path, summary=f"Create one of {layer.name}", status_code=status.HTTP_201_CREATED,
                 responses={201: {"content": {geojson.GEOJSON: {}}}}, response_class=JSONResponse)
    def create_one(body: FeatureIn, db: DbSession, actor: Writer, crs: InputCrs,  # type: ignore[valid-type]
                   settings: AppSettings) -> JSONResponse:
        record = use_cases.create_feature(db=db, actor=actor, layer=layer, feature=cast(LayerFeatureIn, body),
                                          epsg=crs, settings=settings.api)
        return respond(record, status.HTTP_201_CREATED)

    @router.patch(path + "/{feature_id:int}", summary=f"Change one of {layer.name} (If-Match required)",
                  responses=GEOJSON_RESPONSE, response_class=JSONResponse)
    def update_one(feature_id: DbId, patch: FeaturePatchIn, db: DbSession, actor: Writer, crs: InputCrs,
                   expected_version: ExpectedVersion, settings: AppSettings) -> JSONResponse:
        return respond(use_cases.update_feature(db=db, actor=actor, layer=layer, feature_id=feature_id,
                                                expected_version=expected_version, patch=patch, epsg=crs,
                                                settings=settings.api))

    @router.delete(path + "/{feature_id:int}", summary=f"Delete one of {layer.name} (soft, If-Match required)",
                   status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
    def delete_one(feature_id: DbId, db: DbSession, actor: Writer, expected_version: ExpectedVersion,
                   settings: AppSettings, reason: Annotated[str | None, Query(max_length=500)] = None) -> Response:
        service.delete_feature(db=db, actor=actor, layer=layer, feature_id=feature_id,
                               expected_version=expected_version, settings=settings.api, reason=reason)
        return Response(status_code=status.HTTP_204_NO_CONTENT)
