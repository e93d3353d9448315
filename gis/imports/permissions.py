"""Who may load network data from files (SimBench, GeoJSON, GeoPackage)."""

from core.permissions import Permission, Role

# Dispatchers run the network model, so they load it.
IMPORTS_RUN = Permission("imports:run", frozenset({Role.dispatcher}))
