"""The zone map layers, registered in the one catalogue (`gis.layers.catalogue`): built-up areas
and manual zones are managed like network layers (CRUD, audit, If-Match, imports); derived zones
are read-only, computed from lines, built-up areas and the default rule set."""

from __future__ import annotations

from core.permissions import Permission
from gis.layers.spec import POLYGON, LayerSpec, ReadOnlyLayer
from gis.zones import read, schemas, service
from gis.zones.models import BuiltUpArea, LineZone, ManualZone

READ, WRITE = Permission.network_read, Permission.zones_write

BUILT_UP_AREAS = LayerSpec(
    name="built_up_areas", title="Built-up areas (densely-built zone rule)", entity_type="built_up_area",
    model=BuiltUpArea, props=schemas.BuiltUpAreaProps, query=schemas.BuiltUpAreaQuery, geometry_types=POLYGON,
    read_permission=READ, write_permission=WRITE, after_write=service.refresh_after_built_up_write,
    store_as_multi=True)

MANUAL_ZONES = LayerSpec(
    name="manual", title="Manual protection zones", entity_type="manual_zone", model=ManualZone,
    props=schemas.ManualZoneProps, query=schemas.ManualZoneQuery, geometry_types=POLYGON,
    read_permission=READ, write_permission=WRITE, store_as_multi=True)

# Served at /zones through its own SQL (gis.zones.read), not the generic list: one collection of
# derived zones (line_zones, joined to their line and rule set) followed by the manual zones in
# force, with string ids ("derived-1", "manual-1") and a (source, id) cursor.
DERIVED_ZONES = ReadOnlyLayer(
    name="zones", title="Protection zones in force (derived from lines, and manual)", model=LineZone,
    geometry_types=POLYGON, read_permission=READ, properties=read.ZONE_PROPERTIES, read=read.list_zones_json)
