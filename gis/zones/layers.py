"""The zone map layers, registered in the one catalogue (`gis.layers.catalogue`): built-up areas
and manual zones are managed like network layers (CRUD, audit, If-Match, imports); derived zones
are read-only, computed from lines, built-up areas and the default rule set."""

from __future__ import annotations

from gis.layers.spec import POLYGON, LayerSpec, ReadOnlyLayer
from gis.network.permissions import NETWORK_READ
from gis.zones import read, schemas, service
from gis.zones.models import BuiltUpArea, LineZone, ManualZone
from gis.zones.permissions import ZONES_WRITE

BUILT_UP_AREAS = LayerSpec(
    name="built_up_areas", title="Built-up areas (densely-built zone rule)", entity_type="built_up_area",
    model=BuiltUpArea, props=schemas.BuiltUpAreaProps, query=schemas.BuiltUpAreaQuery, geometry_types=POLYGON,
    read_permission=NETWORK_READ, write_permission=ZONES_WRITE, after_write=service.refresh_after_built_up_write,
    store_as_multi=True)

MANUAL_ZONES = LayerSpec(
    name="manual", title="Manual protection zones", entity_type="manual_zone", model=ManualZone,
    props=schemas.ManualZoneProps, query=schemas.ManualZoneQuery, geometry_types=POLYGON,
    read_permission=NETWORK_READ, write_permission=ZONES_WRITE, store_as_multi=True)

# Served at /zones through its own SQL (gis.zones.read), not the generic list: one collection of
# derived zones (line_zones, joined to their line and rule set) followed by the manual zones in
# force, with string ids ("derived-1", "manual-1") and a (source, id) cursor.
DERIVED_ZONES = ReadOnlyLayer(
    name="zones", title="Protection zones in force (derived from lines, and manual)", model=LineZone,
    geometry_types=POLYGON, read_permission=NETWORK_READ, properties=read.ZONE_PROPERTIES, read=read.list_zones_json,
    page=read.zones_page, feature_key=read.zone_key, filters=read.ZoneFilters)
