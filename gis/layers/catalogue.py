"""The one catalogue of published map layers: what map tiles, OGC API Features, imports and the
REST routes enumerate.

Each domain declares its layers next to its models (`gis/<domain>/layers.py`) and names them in its
`domain.py` (`Domain.layers`); the catalogue is every installed domain's layers, in the order the
domains are installed. A new layer needs nothing here.
"""

from __future__ import annotations

from functools import cache

from core.registry import Domains
from gis.layers.spec import AnyLayer, LayerSpec
from gridwarden.domains import installed


@cache
def layers_of(domains: Domains) -> tuple[AnyLayer, ...]:
    """Every layer of `domains` once, in their order: the catalogue of an app composed of them
    (what OGC API Features publishes; a test may compose an app of other domains)."""
    layers: tuple[AnyLayer, ...] = tuple(domains.layers())
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layer names must be unique: {names}")
    return layers


def all_layers() -> tuple[AnyLayer, ...]:
    """Every published layer once, in the installed domains' order (fixed for the process)."""
    return layers_of(installed())


def managed_layers() -> tuple[LayerSpec, ...]:
    """The layers clients and imports write (through the generic layer service)."""
    return tuple(layer for layer in all_layers() if isinstance(layer, LayerSpec))
