"""Customers at /customers: a GeoJSON layer with contact privacy and a metre-radius filter."""

from typing import Any

from fastapi import APIRouter

from api.routers.layer_routes import add_layer_routes
from core.errors import InvalidInput
from gis.customers.layers import CUSTOMERS
from gis.customers.schemas import CustomerQuery
from gis.layers.service import NearFilter

router = APIRouter(tags=["customers"])


def _near(query: CustomerQuery) -> dict[str, Any]:
    if query.near is None and query.within_m is None:
        return {}
    if query.near is None or query.within_m is None:
        raise InvalidInput("near and within_m go together: near=lon,lat&within_m=metres.",
                           errors=[{"field": "near", "message": "needs within_m"}])
    try:
        lon, lat = (float(v) for v in query.near.split(","))
    except ValueError as exc:
        raise InvalidInput("near must be lon,lat in EPSG:4326.", errors=[{"field": "near", "message": "invalid"}]) from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("near is out of range.", errors=[{"field": "near", "message": "out of range"}])
    return {"near": NearFilter(lon, lat, query.within_m)}


add_layer_routes(router, CUSTOMERS, extra_list_filters=_near)
