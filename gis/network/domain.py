"""The line and transformer network: assets, its map layers and topology traces."""

from core.registry import Domain
from gis.network.permissions import NETWORK_READ, NETWORK_WRITE

DOMAIN = Domain(
    name="network",
    models=("gis.network.models",),
    routers=("api.routers.network:router", "api.routers.trace:router"),
    layers=("gis.network.layers:NETWORK_LAYERS",),
    # The connectivity graph traces run on, loaded once per API process and patched as the network changes.
    app_state=(("graph_cache", "gis.network.topology:GraphCache"),),
    permissions=(NETWORK_READ, NETWORK_WRITE),
    # Changes to the network are seen by whoever may read it (the console's event stream).
    event_visibility=tuple((entity, NETWORK_READ) for entity in ("substation", "transformer", "line", "pole", "switch")),
    # The revision counter of the connectivity graph: traces' caches compare against it.
    reference_tables=("topology_state",),
)
