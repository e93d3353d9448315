"""The installed domains: the one list the composition roots read.

Adding a domain is writing its package, with a `domain.py` declaring what it brings
(`core.registry.Domain`), and adding the package here. Order is the order of the API's routes and
of the OpenAPI document.
"""

from __future__ import annotations

from functools import cache

from core.registry import Domains, load_domains

INSTALLED = (
    "gis.network",
    "gis.customers",
    "gis.imports",
    "gis.zones",
    "gis.rule_sets",
    "gis.screening",
    "cases",
    "inspections",
    "inspections.sync",
    "media",
    "routing",
    "gis.layers.tiles",
)


@cache
def installed() -> Domains:
    return load_domains(INSTALLED)
