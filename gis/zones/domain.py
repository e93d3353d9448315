"""Protection zones: derived from every line, drawn by an authority (manual), and built-up areas."""

from core.registry import Domain
from gis.network.permissions import NETWORK_READ
from gis.zones.permissions import ZONES_WRITE

DOMAIN = Domain(
    name="zones",
    models=("gis.zones.models",),
    routers=("api.routers.zones:router",),
    layers=("gis.zones.layers:BUILT_UP_AREAS", "gis.zones.layers:MANUAL_ZONES", "gis.zones.layers:DERIVED_ZONES"),
    permissions=(ZONES_WRITE,),
    # Zones are read with the network; so are the events of their changes.
    event_visibility=(("built_up_area", NETWORK_READ), ("manual_zone", NETWORK_READ)),
    commands=("gis.zones.cli:add_commands",),
    after_migrate=("gis.zones.cli:derive_missing_zones",),
)
