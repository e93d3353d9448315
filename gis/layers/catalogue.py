"""The one catalogue of published map layers: what map tiles, OGC API Features, imports and the
REST routes enumerate.

Each domain declares its layers next to its models (`gis/<domain>/layers.py`); this module is the
one place that lists them all. A new layer is declared by its domain and added to `all_layers`.
"""

from __future__ import annotations

from gis.customers.layers import CUSTOMERS
from gis.layers.spec import AnyLayer, LayerSpec
from gis.network.layers import NETWORK_LAYERS
from gis.zones.layers import BUILT_UP_AREAS, DERIVED_ZONES, MANUAL_ZONES


def all_layers() -> tuple[AnyLayer, ...]:
    """Every published layer once: managed ones first, then read-only ones."""
    return (*NETWORK_LAYERS, CUSTOMERS, BUILT_UP_AREAS, MANUAL_ZONES, DERIVED_ZONES)


def managed_layers() -> tuple[LayerSpec, ...]:
    """The layers clients and imports write (through the generic layer service)."""
    return tuple(layer for layer in all_layers() if isinstance(layer, LayerSpec))
