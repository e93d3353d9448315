"""The layer catalogue is the one list map tiles, OGC API Features and imports enumerate: every
layer the API serves as a GeoJSON collection is in it exactly once, under its own name."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.errors import InvalidInput
from gis.imports import geofile
from gis.layers.catalogue import all_layers, managed_layers
from gis.layers.spec import LayerSpec, ReadOnlyLayer, ReadOnlyTable

B = "/api/v1"
GEOJSON = "application/geo+json"
# Every GeoJSON collection the API serves today, by URL (the brief of the catalogue, issue 8 §3).
SERVED_COLLECTIONS = {
    **{f"{B}/network/{name}": name for name in ("substations", "transformers", "lines", "poles", "switches")},
    f"{B}/customers": "customers", f"{B}/zones": "zones", f"{B}/zones/manual": "manual",
    f"{B}/zones/built_up_areas": "built_up_areas",
}
# Layers published only to map clients (OGC API Features, tiles): cases are read as records at
# /api/v1/cases and written through their workflow, never as a GeoJSON layer there.
MAP_ONLY = {"cases"}


def test_every_layer_is_listed_once_under_a_unique_name() -> None:
    layers = all_layers()
    assert len({id(layer) for layer in layers}) == len(layers)
    names = Counter(layer.name for layer in layers)
    assert [name for name, count in names.items() if count > 1] == []
    assert set(names) == set(SERVED_COLLECTIONS.values()) | MAP_ONLY


def test_each_layer_says_what_tiles_and_features_need() -> None:
    for layer in all_layers():
        assert layer.title and layer.geometry_types and layer.properties, layer.name
        assert layer.geometry is not None, layer.name
        if isinstance(layer, LayerSpec):
            assert layer.write_permission is not None
            assert {"external_id", "version", "updated_at"} <= set(layer.properties)
        else:
            assert isinstance(layer, ReadOnlyLayer | ReadOnlyTable) and layer.write_permission is None
    customers = next(layer for layer in all_layers() if layer.name == "customers")
    assert customers.privacy is not None and "contact_phone" in customers.properties


@pytest.fixture
def geojson_collections(client: TestClient) -> dict[str, dict[str, Any]]:
    """GET operations of the published API that answer a GeoJSON collection (no path parameter)."""
    document = client.get(f"{B}/openapi.json").json()
    return {path: item["get"] for path, item in document["paths"].items()
            if "get" in item and "{" not in path and GEOJSON in item["get"]["responses"].get("200", {}).get("content", {})}


def test_every_layer_served_under_api_v1_is_in_the_catalogue(geojson_collections: dict[str, Any]) -> None:
    assert set(geojson_collections) == set(SERVED_COLLECTIONS)
    names = {layer.name for layer in all_layers()}
    assert {path: name for path, name in SERVED_COLLECTIONS.items() if name not in names} == {}


def test_imports_take_every_managed_layer_and_no_derived_one() -> None:
    for layer in managed_layers():
        assert geofile.layer_by_name(layer.name) is layer
    with pytest.raises(InvalidInput):
        geofile.layer_by_name("zones")
