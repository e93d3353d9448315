"""The zone-related map layers, managed like network layers (CRUD, audit, If-Match, imports)."""

from __future__ import annotations

from gis.network.layers import POLYGON, LayerSpec
from gis.network.permissions import NETWORK_READ
from gis.zones import schemas, service
from gis.zones.models import BuiltUpArea, ManualZone
from gis.zones.permissions import ZONES_WRITE

BUILT_UP_AREAS = LayerSpec(
    "built_up_areas", "built_up_area", BuiltUpArea, schemas.BuiltUpAreaProps, schemas.BuiltUpAreaQuery, POLYGON,
    NETWORK_READ, ZONES_WRITE, after_write=service.refresh_after_built_up_write,
    store_as_multi=True)

MANUAL_ZONES = LayerSpec(
    "manual", "manual_zone", ManualZone, schemas.ManualZoneProps, schemas.ManualZoneQuery, POLYGON,
    NETWORK_READ, ZONES_WRITE, store_as_multi=True)
