"""The road network at /roads: replace it with a file (administrators), see which one is in use.
Thin: each operation is one call into `routing.roads.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile, status

from api.dependencies import AppSettings, DbSession, get_actor, require
from core.context import Actor
from core.errors import PermissionDenied
from core.permissions import has_permission
from routing.permissions import ROADS_IMPORT, ROUTES_PLAN
from routing.roads import service as road_service
from routing.roads.schemas import RoadImportOut, RoadNetworkOut
from routing.settings import routing_settings

router = APIRouter(prefix="/roads", tags=["roads"])

Importer = Annotated[Actor, Depends(require(ROADS_IMPORT))]


async def require_planner_or_importer(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
    """Planners see which network their travel times come from; administrators, what they imported."""
    if not (has_permission(actor.role, ROUTES_PLAN) or has_permission(actor.role, ROADS_IMPORT)):
        raise PermissionDenied(f"Role {actor.role} may not do this (needs {ROUTES_PLAN} or {ROADS_IMPORT}).")
    return actor


@router.post("/imports", response_model=RoadImportOut, status_code=status.HTTP_201_CREATED)
def import_roads(
    settings: AppSettings, db: DbSession, actor: Importer, response: Response,
    file: Annotated[UploadFile, File(description="OpenStreetMap extract (.osm.pbf) or GeoPackage (.gpkg)")],
) -> RoadImportOut:
    """Replace the road network (all of it, in one transaction). The same file again changes nothing (200)."""
    data = road_service.read_limited(file.file, max_bytes=routing_settings(settings).max_road_file_bytes)
    report = road_service.import_roads(db=db, actor=actor, data=data, filename=file.filename or "")
    if report.unchanged:
        response.status_code = status.HTTP_200_OK
    return report


@router.get("", response_model=RoadNetworkOut)
def road_network(db: DbSession,
                 _actor: Annotated[Actor, Depends(require_planner_or_importer)]) -> RoadNetworkOut:
    return road_service.network_status(db=db)
