"""The network tests' shared SimBench grid (a module-scoped fixture, for modules with SHARED_DATA)."""

from tests.gis.network.demo_grid import demo_grid

__all__ = ["demo_grid"]
