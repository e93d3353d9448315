"""GeoJSON layers of the network at /network/<layer>."""

from fastapi import APIRouter

from api.routers.layer_routes import add_layer_routes
from gis.network.layers import NETWORK_LAYERS

router = APIRouter(prefix="/network", tags=["network"])
for _layer in NETWORK_LAYERS:
    add_layer_routes(router, _layer)
