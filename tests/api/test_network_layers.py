"""The five network layers as GeoJSON resources: create, read, filter, page, change, delete, audit.

Every layer shares the same contract; a field crew's map and the dispatch desk both rely on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.factories import BASE_LAT, BASE_LON, NETWORK_LAYERS, created, feature, linestring, point, row_count, url

Auth = Callable[[Role], dict[str, str]]
PROBLEM = "application/problem+json"
GEOJSON = "application/geo+json"


@pytest.fixture
def editor(auth: Auth) -> dict[str, str]:
    return auth(Role.dispatcher)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["features"]]


@pytest.mark.parametrize("layer", NETWORK_LAYERS)
def test_created_feature_comes_back_as_geojson_with_version_1(client: TestClient, editor: dict[str, str],
                                                              layer: str) -> None:
    sent = feature(layer)
    response = client.post(url(layer), json=sent, headers=editor)

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == GEOJSON
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert body["type"] == "Feature" and body["geometry"] == sent["geometry"]
    assert body["properties"]["version"] == 1
    assert body["properties"]["external_id"] == sent["properties"]["external_id"]

    fetched = client.get(f"{url(layer)}/{body['id']}", headers=editor)
    assert fetched.status_code == 200 and fetched.headers["etag"] == '"1"'
    assert fetched.json() == body

    listed = client.get(url(layer), headers=editor)
    assert listed.headers["content-type"] == GEOJSON
    assert listed.json()["type"] == "FeatureCollection"
    assert listed.json()["features"] == [body]


def test_bbox_returns_features_inside_and_not_outside(client: TestClient, editor: dict[str, str]) -> None:
    inside = created(client, editor, "poles", geometry=point(BASE_LON, BASE_LAT))
    created(client, editor, "poles", geometry=point(BASE_LON + 1.0, BASE_LAT))
    bbox = f"{BASE_LON - 0.01},{BASE_LAT - 0.01},{BASE_LON + 0.01},{BASE_LAT + 0.01}"

    assert ids(client.get(url("poles"), params={"bbox": bbox}, headers=editor)) == [inside["id"]]


def test_bbox_in_web_mercator_is_reprojected_before_filtering(client: TestClient, editor: dict[str, str]) -> None:
    inside = created(client, editor, "poles", geometry=point(BASE_LON, BASE_LAT))
    created(client, editor, "poles", geometry=point(BASE_LON + 0.05, BASE_LAT))
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(BASE_LON, BASE_LAT)
    bbox = f"{x - 500},{y - 500},{x + 500},{y + 500}"  # 500 m; the other pole is ~4.7 km east

    response = client.get(url("poles"), params={"bbox": bbox, "bbox-crs": "EPSG:3857"}, headers=editor)

    assert ids(response) == [inside["id"]]


def test_attribute_filters_select_matching_rows(client: TestClient, editor: dict[str, str]) -> None:
    cable = created(client, editor, "lines", construction="cable")
    created(client, editor, "lines", construction="overhead")
    open_switch = created(client, editor, "switches", is_open=True)
    created(client, editor, "switches", is_open=False)

    assert ids(client.get(url("lines"), params={"construction": "cable"}, headers=editor)) == [cable["id"]]
    assert ids(client.get(url("switches"), params={"is_open": "true"}, headers=editor)) == [open_switch["id"]]


def test_unknown_query_parameter_is_rejected_not_ignored(client: TestClient, editor: dict[str, str]) -> None:
    body = assert_problem(client.get(url("lines"), params={"colour": "red"}, headers=editor), 422)

    assert "colour" in body["detail"]
    assert any("colour" in e["field"] for e in body["errors"])


def test_limit_above_maximum_is_rejected(client: TestClient, editor: dict[str, str]) -> None:
    body = assert_problem(client.get(url("poles"), params={"limit": 1001}, headers=editor), 422)

    assert "1000" in body["detail"]


def test_paging_while_rows_are_added_sees_every_row_exactly_once(client: TestClient,
                                                                 editor: dict[str, str]) -> None:
    expected = {created(client, editor, "substations")["id"] for _ in range(5)}
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    for page_number in range(20):
        page = client.get(url("substations"), params=params, headers=editor)
        seen += ids(page)
        if len(expected) < 9:  # someone maps new substations while we page...
            expected.add(created(client, editor, "substations")["id"])
        if page_number == 1:  # ...and removes one we have already seen, which must not shift the pages
            gone = client.delete(f"{url('substations')}/{seen[0]}", headers={**editor, "If-Match": '"1"'})
            assert gone.status_code == 204
        if "next_cursor" not in page.json():
            break
        params = {"limit": 2, "cursor": page.json()["next_cursor"]}
    else:
        pytest.fail("paging did not end")

    assert len(seen) == len(set(seen)), f"duplicates: {seen}"
    assert set(seen) == expected


def _patch(client: TestClient, headers: dict[str, str], layer: str, fid: int, props: dict[str, Any],
           if_match: str | None) -> Any:
    extra = {"If-Match": if_match} if if_match is not None else {}
    return client.patch(f"{url(layer)}/{fid}", json={"properties": props}, headers={**headers, **extra})


def test_patch_with_current_version_bumps_version_and_etag(client: TestClient, editor: dict[str, str]) -> None:
    line = created(client, editor, "lines", nominal_kv=10.0)

    response = _patch(client, editor, "lines", line["id"], {"nominal_kv": 35.0}, '"1"')

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["properties"]["version"] == 2
    assert client.get(f"{url('lines')}/{line['id']}", headers=editor).json()["properties"]["nominal_kv"] == 35.0


def test_patch_without_if_match_gets_428_and_changes_nothing(client: TestClient, editor: dict[str, str]) -> None:
    line = created(client, editor, "lines", nominal_kv=10.0)

    assert_problem(_patch(client, editor, "lines", line["id"], {"nominal_kv": 35.0}, None), 428)

    assert client.get(f"{url('lines')}/{line['id']}", headers=editor).json() == line


def test_stale_if_match_gets_412_with_current_version_and_changes_nothing(client: TestClient,
                                                                          editor: dict[str, str]) -> None:
    line = created(client, editor, "lines", nominal_kv=10.0)
    assert _patch(client, editor, "lines", line["id"], {"name": "renamed"}, '"1"').status_code == 200
    current = client.get(f"{url('lines')}/{line['id']}", headers=editor).json()

    body = assert_problem(_patch(client, editor, "lines", line["id"], {"nominal_kv": 35.0}, '"1"'), 412)

    assert body["current_version"] == 2
    assert client.get(f"{url('lines')}/{line['id']}", headers=editor).json() == current


def test_two_concurrent_patches_on_the_same_version_one_wins_one_gets_412(
        client: TestClient, editor: dict[str, str], owner_engine: Engine) -> None:
    line = created(client, editor, "lines", nominal_kv=10.0)
    start = threading.Barrier(2)

    def attempt(kv: float) -> int:
        start.wait()
        return _patch(client, editor, "lines", line["id"], {"nominal_kv": kv}, '"1"').status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(attempt, [20.0, 35.0]))

    assert statuses == [200, 412]
    with owner_engine.connect() as conn:
        version = conn.execute(text("SELECT version FROM lines WHERE id = :id"), {"id": line["id"]}).scalar_one()
        updates = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'line.update'")).scalar_one()
    assert (version, updates) == (2, 1)


def test_delete_hides_the_feature_but_keeps_the_row(client: TestClient, editor: dict[str, str],
                                                    owner_engine: Engine) -> None:
    pole = created(client, editor, "poles")
    kept = created(client, editor, "poles")
    path = f"{url('poles')}/{pole['id']}"

    assert_problem(client.delete(path, headers=editor), 428)
    assert client.delete(path, headers={**editor, "If-Match": '"1"'}).status_code == 204

    assert_problem(client.get(path, headers=editor), 404)
    assert ids(client.get(url("poles"), headers=editor)) == [kept["id"]]
    with owner_engine.connect() as conn:
        deleted_at = conn.execute(text("SELECT deleted_at FROM poles WHERE id = :id"), {"id": pole["id"]}).one()[0]
    assert deleted_at is not None


def test_duplicate_external_id_gets_409_and_writes_nothing(client: TestClient, editor: dict[str, str],
                                                           owner_engine: Engine) -> None:
    created(client, editor, "transformers", external_id="TX-1")

    assert_problem(client.post(url("transformers"), json=feature("transformers", external_id="TX-1"),
                               headers=editor), 409)
    assert row_count(owner_engine, "transformers") == 1


def test_every_write_is_audited_with_actor_before_and_after(client: TestClient, editor: dict[str, str],
                                                            auth: Auth) -> None:
    line = created(client, editor, "lines", nominal_kv=10.0)
    assert _patch(client, editor, "lines", line["id"], {"nominal_kv": 35.0}, '"1"').status_code == 200
    assert client.delete(f"{url('lines')}/{line['id']}", headers={**editor, "If-Match": '"2"'}).status_code == 204

    response = client.get("/api/v1/audit", params={"entity_type": "line", "entity_id": line["id"]},
                          headers=auth(Role.admin))

    assert response.status_code == 200, response.text
    records = {r["action"]: r for r in response.json()["items"]}
    assert set(records) == {"line.create", "line.update", "line.delete"}
    assert {r["actor_name"] for r in records.values()} == {"test-dispatcher"}
    create, update, delete = records["line.create"], records["line.update"], records["line.delete"]
    assert create["before"] is None and create["after"]["nominal_kv"] == 10.0
    assert (update["before"]["nominal_kv"], update["after"]["nominal_kv"]) == (10.0, 35.0)
    assert (update["before"]["version"], update["after"]["version"]) == (1, 2)
    assert delete["before"]["version"] == 2 and delete["after"]["deleted_at"]


def test_line_length_is_the_geodesic_length_on_wgs84(client: TestClient, editor: dict[str, str]) -> None:
    coords = ((BASE_LON, BASE_LAT), (BASE_LON + 0.03, BASE_LAT + 0.02), (BASE_LON + 0.05, BASE_LAT - 0.01))
    line = created(client, editor, "lines", geometry=linestring(*coords))

    lons, lats = zip(*coords, strict=True)
    assert line["properties"]["length_m"] == pytest.approx(Geod(ellps="WGS84").line_length(lons, lats), abs=0.01)


# --- bad input: 422 problem+json naming the problem, and nothing written -------------------------

BAD_INPUT: list[tuple[str, str, dict[str, Any], dict[str, str], str]] = [
    # (id, layer, feature overrides, query, a word the detail must contain)
    ("polygon-for-line", "lines", {"geometry": {"type": "Polygon", "coordinates": [
        [[117, 31], [117.1, 31], [117.1, 31.1], [117, 31]]]}}, {}, "Polygon"),
    ("empty-coordinates", "poles", {"geometry": {"type": "Point", "coordinates": []}}, {}, "empty"),
    ("longitude-200", "poles", {"geometry": point(200.0, 31.0)}, {}, "longitude"),
    ("non-numeric", "poles", {"geometry": {"type": "Point", "coordinates": ["east", "north"]}}, {}, "coordinates"),
    ("zero-length-line", "lines", {"geometry": linestring((117.0, 31.0), (117.0, 31.0))}, {}, "point"),
    ("unknown-crs", "poles", {}, {"crs": "EPSG:99999"}, "EPSG:99999"),
    ("projected-without-crs", "poles", {"geometry": point(500000.0, 4000000.0)}, {}, "crs"),
    ("unknown-property", "substations", {"voltage_class": "HV"}, {}, "voltage_class"),
    ("negative-rated-kva", "transformers", {"rated_kva": -100.0}, {}, "rated_kva"),
]


@pytest.mark.parametrize(("layer", "overrides", "query", "named"),
                         [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_gets_422_naming_the_problem_and_writes_nothing(
        client: TestClient, editor: dict[str, str], owner_engine: Engine,
        layer: str, overrides: dict[str, Any], query: dict[str, str], named: str) -> None:
    response = client.post(url(layer), json=feature(layer, **overrides), params=query, headers=editor)

    body = assert_problem(response, 422)
    assert named.lower() in body["detail"].lower()
    assert body["errors"]
    assert row_count(owner_engine, layer) == 0
    assert row_count(owner_engine, "audit_log") == 0


def test_missing_required_property_gets_422_naming_it(client: TestClient, editor: dict[str, str],
                                                      owner_engine: Engine) -> None:
    sent = feature("poles")
    del sent["properties"]["kind"]

    body = assert_problem(client.post(url("poles"), json=sent, headers=editor), 422)

    assert any(e["field"].endswith("kind") for e in body["errors"])
    assert row_count(owner_engine, "poles") == 0


def test_nan_coordinate_gets_422_and_writes_nothing(client: TestClient, editor: dict[str, str],
                                                    owner_engine: Engine) -> None:
    raw = ('{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 31.0]}, '
           '"properties": {"external_id": "P-nan", "kind": "pole", "nominal_kv": 10}}')

    response = client.post(url("poles"), content=raw, headers={**editor, "Content-Type": "application/json"})

    assert_problem(response, 422)
    assert row_count(owner_engine, "poles") == 0
