"""Incoming geometry follows RFC 7946 to the letter, in 2D CRSs only, within the writer's vertex limit;
whatever is refused is a 422 naming the field, and nothing is stored.

Decisions the tests pin down: a third number in a position (the altitude RFC 7946 allows) is accepted
and dropped, since every layer is 2D; a fourth is refused. A GeoJSON `crs` member (GeoJSON 2008) is
refused with a pointer to the `crs` query parameter instead of being ignored.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.errors import InvalidInput
from core.permissions import Role
from core.settings import Settings
from gis.geo.geometry import GeometryLimits, parse_geometry
from gis.screening.settings import screening_settings
from tests.factories import BASE_LAT, BASE_LON, feature, row_count, url

Auth = Callable[[Role], dict[str, str]]
LIMITS = GeometryLimits(max_vertices=1000)
SQUARE = [[117.0, 31.0], [117.001, 31.0], [117.001, 31.001], [117.0, 31.001], [117.0, 31.0]]


def polygon(*rings: list[list[Any]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def refusal(geojson: Any, **kwargs: Any) -> dict[str, Any]:
    """The one error of a refused geometry: {'field': ..., 'message': ...}."""
    with pytest.raises(InvalidInput) as caught:
        parse_geometry(geojson, limits=kwargs.pop("limits", LIMITS), **kwargs)
    assert len(caught.value.errors) == 1
    return caught.value.errors[0]


# --- RFC 7946, position by position --------------------------------------------------------------------------------

@pytest.mark.parametrize(("geojson", "field"), [
    pytest.param({"type": "Point", "coordinates": ["117.2", "31.8"]}, "geometry.coordinates", id="string-numbers"),
    pytest.param({"type": "Point", "coordinates": [True, False]}, "geometry.coordinates", id="booleans"),
    pytest.param({"type": "Point", "coordinates": [117.2, None]}, "geometry.coordinates", id="null"),
    pytest.param({"type": "Point", "coordinates": [117.2]}, "geometry.coordinates", id="one-number"),
    pytest.param({"type": "Point", "coordinates": [117.2, 31.8, 10.0, 5.0]}, "geometry.coordinates",
                 id="four-numbers"),
    pytest.param({"type": "Point", "coordinates": {"x": 117.2, "y": 31.8}}, "geometry.coordinates", id="object"),
    pytest.param({"type": "Point", "coordinates": [math.nan, 31.8]}, "geometry.coordinates", id="NaN"),
    pytest.param({"type": "Point", "coordinates": [math.inf, 31.8]}, "geometry.coordinates", id="infinity"),
    pytest.param({"type": "Point", "coordinates": [10**400, 31.8]}, "geometry.coordinates", id="400-digit-integer"),
    pytest.param({"type": "LineString", "coordinates": [[117.0, 31.0], [117.1, "31.1"]]},
                 "geometry.coordinates[1]", id="string-in-a-line"),
    pytest.param({"type": "LineString", "coordinates": [[117.0, 31.0]]}, "geometry.coordinates",
                 id="line-of-one-position"),
    pytest.param(polygon(SQUARE[:-1]), "geometry.coordinates[0]", id="unclosed-ring"),
    pytest.param(polygon([[117.0, 31.0], [117.001, 31.0], [117.0, 31.0]]), "geometry.coordinates[0]",
                 id="ring-of-three-positions"),
    pytest.param({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE[:-1]]]}, "geometry.coordinates[1][0]",
                 id="unclosed-ring-in-second-polygon"),
    pytest.param({"type": "Polygon", "coordinates": []}, "geometry", id="polygon-without-rings"),
    pytest.param({"type": "MultiPoint", "coordinates": []}, "geometry", id="empty-multipoint"),
    pytest.param({"type": "Point"}, "geometry", id="no-coordinates"),
    pytest.param({"type": "GeometryCollection", "geometries": []}, "geometry", id="collection"),
])
def test_what_rfc_7946_does_not_allow_is_refused_naming_the_field(geojson: dict[str, Any], field: str) -> None:
    assert refusal(geojson)["field"].startswith(field)


def test_the_field_named_points_at_the_exact_position() -> None:
    line = {"type": "LineString", "coordinates": [[117.0, 31.0], [117.1, 31.1], [117.2, True]]}

    assert refusal(line, field="items[3].geometry")["field"] == "items[3].geometry.coordinates[2]"


def test_a_geojson_crs_member_is_refused_with_a_pointer_to_the_crs_parameter() -> None:
    legacy = {"type": "Point", "coordinates": [500000.0, 3500000.0],
              "crs": {"type": "name", "properties": {"name": "EPSG:32650"}}}

    with pytest.raises(InvalidInput, match="crs` query parameter") as caught:
        parse_geometry(legacy, limits=LIMITS)
    assert caught.value.errors[0]["field"] == "geometry.crs"


def test_an_altitude_is_accepted_and_dropped() -> None:
    geom = parse_geometry({"type": "LineString", "coordinates": [[117.0, 31.0, 35.5], [117.1, 31.1, 40.0]]},
                          limits=LIMITS)

    assert not geom.has_z and list(geom.coords) == [(117.0, 31.0), (117.1, 31.1)]


def test_a_hole_outside_its_shell_is_invalid() -> None:
    hole = [[118.0, 32.0], [118.0, 32.001], [118.001, 32.001], [118.001, 32.0], [118.0, 32.0]]

    assert "Invalid geometry" in refusal(polygon(SQUARE, hole))["message"]


def test_integers_are_numbers_too() -> None:
    assert parse_geometry({"type": "Point", "coordinates": [117, 31]}, limits=LIMITS).coords[0] == (117.0, 31.0)


# --- vertex limits: counted while reading ----------------------------------------------------------------------------

def test_a_million_vertex_line_is_refused_after_reading_only_up_to_the_limit() -> None:
    limit = 50_000
    # Positions after the limit are not even numbers: the count stops the reading before them.
    coordinates = [[117.0 + i * 1e-6, 31.0] for i in range(limit + 1)] + [["not", "read"]] * (1_000_000 - limit)

    error = refusal({"type": "LineString", "coordinates": coordinates}, limits=GeometryLimits(max_vertices=limit))

    assert error == {"field": "geometry", "message": f"more than {limit} vertices"}


def test_a_multipolygon_counts_the_vertices_of_all_its_rings() -> None:
    five_squares = {"type": "MultiPolygon",
                    "coordinates": [[[[x + i, y] for x, y in SQUARE]] for i in range(5)]}  # 25 positions

    assert refusal(five_squares, limits=GeometryLimits(max_vertices=24))["message"] == "more than 24 vertices"
    assert parse_geometry(five_squares, limits=GeometryLimits(max_vertices=25)).geom_type == "MultiPolygon"


# --- over the API: every writer, 422 naming the field, nothing stored ----------------------------------------------

def line_of(vertices: int) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[117.0 + i * 1e-5, 31.0 + (i % 2) * 1e-5] for i in range(vertices)]}


def ring_of(vertices: int) -> dict[str, Any]:
    """A closed ring of `vertices` positions round a circle of ~100 m near Hefei."""
    n = vertices - 1
    ring = [[BASE_LON + 0.001 * math.cos(2 * math.pi * i / n), BASE_LAT + 0.001 * math.sin(2 * math.pi * i / n)]
            for i in range(n)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


MANUAL_ZONE = {"name": "Yard", "zone_type": "substation", "authority": "Bureau", "reason": "perimeter",
               "valid_from": "2020-01-01"}


def zone_feature(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"external_id": "MZ-1", **MANUAL_ZONE}}


@pytest.mark.parametrize(("path", "body"), [
    pytest.param(url("lines"), lambda g: feature("lines", geometry=g), id="network-line"),
    pytest.param("/api/v1/zones/manual", zone_feature, id="manual-zone"),
])
def test_a_layer_write_over_the_vertex_limit_is_422_and_stores_nothing(
        client: TestClient, auth: Auth, owner_engine: Engine, settings: Settings, path: str,
        body: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    limit = settings.api.max_geometry_vertices
    geometry = line_of(limit + 1) if "lines" in path else ring_of(limit + 1)

    response = client.post(path, json=body(geometry), headers=auth(Role.admin))

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "geometry", "message": f"more than {limit} vertices"}]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT (SELECT count(*) FROM lines) + (SELECT count(*) FROM manual_zones)"
                                 " + (SELECT count(*) FROM audit_log WHERE entity_type <> 'user')")).scalar_one() == 0


def test_a_line_of_a_million_vertices_never_reaches_the_database(
        client: TestClient, auth: Auth, owner_engine: Engine) -> None:
    response = client.post(url("lines"), json=feature("lines", geometry=line_of(1_000_000)),
                           headers=auth(Role.dispatcher))

    assert response.status_code == 413, response.text[:300]
    assert row_count(owner_engine, "lines") == 0


@pytest.mark.parametrize("layer_path", ["/api/v1/network/lines", "/api/v1/zones/manual"])
def test_a_million_compact_vertices_under_the_body_limit_are_refused_by_the_vertex_count(
        client: TestClient, auth: Auth, owner_engine: Engine, settings: Settings, layer_path: str) -> None:
    # One-digit coordinates keep a million positions under the body limit (6 bytes each).
    ring = [[1, 2], [2, 2]] * 499_999 + [[2, 1], [1, 2]]
    geometry = ({"type": "LineString", "coordinates": ring[:-2]} if "lines" in layer_path
                else {"type": "Polygon", "coordinates": [ring]})
    body = feature("lines", geometry=geometry) if "lines" in layer_path else zone_feature(geometry)
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) < settings.api.max_json_body_bytes

    response = client.post(layer_path, content=raw, headers={**auth(Role.admin), "Content-Type": "application/json"})

    assert response.status_code == 422, response.text[:300]
    limit = settings.api.max_geometry_vertices
    assert response.json()["errors"] == [{"field": "geometry", "message": f"more than {limit} vertices"}]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT (SELECT count(*) FROM lines) + (SELECT count(*) FROM manual_zones)")
                            ).scalar_one() == 0


def test_a_patch_over_the_vertex_limit_is_refused_too(client: TestClient, auth: Auth, settings: Settings) -> None:
    headers = auth(Role.dispatcher)
    line = client.post(url("lines"), json=feature("lines"), headers=headers).json()
    too_long = line_of(settings.api.max_geometry_vertices + 1)

    response = client.patch(f"{url('lines')}/{line['id']}", json={"type": "Feature", "geometry": too_long},
                            headers={**headers, "If-Match": '"1"'})

    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "geometry"


def test_a_case_footprint_over_the_vertex_limit_is_refused(client: TestClient, auth: Auth,
                                                          settings: Settings) -> None:
    limit = screening_settings(settings).max_vertices
    body = {"kind": "connection", "request_type": "new_connection", "applicant_name": "Li Lei",
            "site_address": "1 Road", "voltage_kv": 0.4, "requested_load_kw": 10.0,
            "location": {"type": "Point", "coordinates": [BASE_LON, BASE_LAT]}, "footprint": ring_of(limit + 1)}

    response = client.post("/api/v1/cases", json=body, headers=auth(Role.approver))

    assert response.status_code == 422, response.text[:500]
    assert {"field": "footprint", "message": f"more than {limit} vertices"} in response.json()["errors"]


def test_a_3d_screening_point_is_screened_in_2d(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/v1/screenings", headers=auth(Role.dispatcher),
                           json={"geometry": {"type": "Point", "coordinates": [11.4, 53.6, 100]},
                                 "activity": "connection", "parameters": {"requested_load_kw": 5}})

    assert response.status_code == 201, response.text
    assert response.json()["geometry"]["coordinates"] == [11.4, 53.6]


def test_nan_in_a_json_body_is_422_not_500(client: TestClient, auth: Auth) -> None:
    raw = b'{"geometry": {"type": "Point", "coordinates": [NaN, 31.8]}, "activity": "connection"}'

    response = client.post("/api/v1/screenings", content=raw,
                           headers={**auth(Role.dispatcher), "Content-Type": "application/json"})

    assert response.status_code == 422, response.text


@pytest.mark.parametrize("crs", [
    pytest.param("EPSG:4978", id="geocentric"),
    pytest.param("EPSG:4979", id="geographic-3D"),
    pytest.param("EPSG:5773", id="vertical"),
    pytest.param("EPSG:5972", id="compound"),
])
def test_only_2d_geographic_or_projected_crss_are_accepted(client: TestClient, auth: Auth, owner_engine: Engine,
                                                          crs: str) -> None:
    response = client.post(url("poles"), params={"crs": crs}, json=feature("poles"), headers=auth(Role.dispatcher))

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "crs"
    assert row_count(owner_engine, "poles") == 0


# --- the audit log keeps large geometries as a digest ------------------------------------------------------------

def audit_after(owner_engine: Engine, entity_type: str) -> tuple[dict[str, Any], int]:
    with owner_engine.connect() as conn:
        after, size = conn.execute(text("SELECT after, pg_column_size(after) FROM audit_log "
                                        "WHERE entity_type = :t ORDER BY id DESC LIMIT 1"), {"t": entity_type}).one()
    return after, size


def test_a_large_geometry_is_audited_as_type_count_bbox_and_hash(
        client: TestClient, auth: Auth, owner_engine: Engine, settings: Settings) -> None:
    headers = auth(Role.admin)
    vertices = 5000
    assert vertices > settings.api.audit_geometry_verbatim_vertices
    zone = client.post("/api/v1/zones/manual", json=zone_feature(ring_of(vertices)), headers=headers)
    assert zone.status_code == 201, zone.text

    after, size = audit_after(owner_engine, "manual_zone")

    stored = client.get(f"/api/v1/zones/manual/{zone.json()['id']}", headers=headers).json()["geometry"]
    canonical = json.dumps(stored, sort_keys=True, separators=(",", ":")).encode()
    digest = after["geometry"]
    assert digest["type"] == "MultiPolygon" and digest["vertices"] == vertices and digest["summarised"] is True
    assert digest["sha256"] == hashlib.sha256(canonical).hexdigest()
    assert digest["bbox"] == pytest.approx([BASE_LON - 0.001, BASE_LAT - 0.001, BASE_LON + 0.001, BASE_LAT + 0.001],
                                           abs=1e-6)
    assert size < 2000  # bytes, whatever the geometry's size
    assert after["authority"] == "Bureau"  # the properties are kept as they are


def test_a_small_geometry_is_audited_whole(client: TestClient, auth: Auth, owner_engine: Engine) -> None:
    pole = client.post(url("poles"), json=feature("poles"), headers=auth(Role.dispatcher)).json()

    after, _ = audit_after(owner_engine, "pole")

    assert after["geometry"] == pole["geometry"]
