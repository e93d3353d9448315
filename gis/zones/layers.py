"""The zone-related map layers, managed like network layers (CRUD, audit, If-Match, imports)."""

from __future__ import annotations

from core.permissions import Permission
from gis.network.layers import POLYGON, LayerSpec
from gis.zones import schemas, service
from gis.zones.models import BuiltUpArea, ManualZone

BUILT_UP_AREAS = LayerSpec(
    "built_up_areas", "built_up_area", BuiltUpArea, schemas.BuiltUpAreaProps, schemas.BuiltUpAreaQuery, POLYGON,
    Permission.network_read, Permission.zones_write, after_write=service.refresh_after_built_up_write,
    store_as_multi=True)

MANUAL_ZONES = LayerSpec(
    "manual", "manual_zone", ManualZone, schemas.ManualZoneProps, schemas.ManualZoneQuery, POLYGON,
    Permission.network_read, Permission.zones_write, store_as_multi=True)
