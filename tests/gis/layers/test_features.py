"""OGC API Features at /ogc, as a GIS client reads it: every catalogue layer and the cases as
collections, GeoJSON pages with keyset `next` links, `numberMatched`, property filters and their
queryables, output and bbox CRSs with each CRS's own axis order, HTML pages, 400 for what cannot be
served, and customers' phone numbers masked per role exactly as in the customers API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit.models import AuditRecord
from core.permissions import Role
from gis.customers.privacy import mask_phone
from gis.layers.catalogue import all_layers
from tests.cases.conftest import connection_body
from tests.factories import created, linestring, point

Auth = Callable[[Role], dict[str, str]]
OGC = "/ogc"
GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
PHONE = "+86 138 0013 8000"
LINE = ((117.2272, 31.8206), (117.2372, 31.8256), (117.2472, 31.8206))


@pytest.fixture
def data(client: TestClient, auth: Auth) -> dict[str, Any]:
    """Three lines (two of 10 kV), a transformer, a customer with a phone number and a case."""
    dispatcher = auth(Role.dispatcher)
    lines = [created(client, dispatcher, "lines", nominal_kv=kv, geometry=linestring(*((x + i * 0.01, y) for x, y in LINE)))
             for i, kv in enumerate((10.0, 10.0, 35.0))]
    transformer = created(client, dispatcher, "transformers", geometry=point(117.30, 31.85))
    customer = created(client, dispatcher, "customers", contact_phone=PHONE, geometry=point(117.31, 31.86))
    response = client.post("/api/v1/cases", json=connection_body((117.40, 31.90)), headers=auth(Role.approver))
    assert response.status_code == 201, response.text
    return {"lines": lines, "transformer": transformer, "customer": customer, "case": response.json()}


def get(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = client.get(OGC + path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


def test_landing_conformance_and_every_layer_as_a_collection(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.auditor)
    landing = get(client, headers, "").json()
    conformance = get(client, headers, "/conformance").json()["conformsTo"]
    listed = get(client, headers, "/collections").json()

    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "alternate", "conformance", "data", "service-desc"} <= rels
    assert {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"} <= set(conformance)
    ids = [c["id"] for c in listed["collections"]]
    assert ids == [layer.name for layer in all_layers()] and "cases" in ids
    for found in listed["collections"]:
        assert found["crs"][0] == CRS84 and EPSG.format(4490) in found["crs"] and EPSG.format(3857) in found["crs"]
        items = next(link["href"] for link in found["links"] if link["rel"] == "items" and link["type"] == GEOJSON)
        assert items.endswith(f"/ogc/collections/{found['id']}/items")


def test_a_collection_gives_its_extent_once_the_table_is_analysed(
        client: TestClient, auth: Auth, data: dict[str, Any], owner_engine: Engine) -> None:
    with owner_engine.begin() as connection:
        connection.execute(text("ANALYZE transformers"))

    found = get(client, auth(Role.inspector), "/collections/transformers").json()

    (west, south, east, north), = found["extent"]["spatial"]["bbox"]
    assert found["extent"]["spatial"]["crs"] == CRS84
    assert (west, south, east, north) == pytest.approx((117.30, 31.85, 117.30, 31.85), abs=1e-4)


def test_table_layers_describe_their_features_with_a_typed_schema(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.inspector)
    lines = get(client, headers, "/collections/lines").json()
    schema = get(client, headers, "/collections/lines/schema").json()["properties"]["properties"]["properties"]
    cases = get(client, headers, "/collections/cases/schema").json()["properties"]["properties"]["properties"]
    zones = client.get(f"{OGC}/collections/zones/schema", headers=headers)

    described = {(link["rel"], link["href"].rsplit("/", 1)[1]) for link in lines["links"] if "escribed" in link["rel"]}
    assert described == {("describedby", "schema"), ("describedBy", "schema")}
    assert schema["nominal_kv"]["type"] == "number" and schema["version"]["type"] == "integer"
    assert schema["updated_at"] == {"title": "updated_at", "type": "string", "format": "date-time"}
    assert schema["conductor_spread_is_default"]["type"] == "boolean" and schema["name"]["type"] == "string"
    assert cases["deadline_at"]["format"] == "date-time" and "applicant_phone" not in cases
    assert zones.status_code == 404


def test_every_endpoint_needs_a_signed_in_user_and_a_browser_is_asked_for_a_token(client: TestClient) -> None:
    for path in ("", "/conformance", "/collections", "/collections/lines", "/collections/lines/items",
                 "/collections/lines/items/1", "/collections/lines/queryables", "/collections/lines/schema"):
        response = client.get(OGC + path, headers={"Accept": "text/html"})
        assert response.status_code == 401, path
        assert 'Basic realm="GridWarden"' in response.headers["www-authenticate"], path
    assert "Basic" not in client.get("/api/v1/network/lines").headers["www-authenticate"]


def test_items_page_with_next_links_number_matched_and_timestamp(client: TestClient, auth: Auth,
                                                                  data: dict[str, Any]) -> None:
    headers = auth(Role.inspector)
    first = get(client, headers, "/collections/lines/items", limit=2)
    body = first.json()

    assert first.headers["content-type"] == GEOJSON and first.headers["content-crs"] == f"<{CRS84}>"
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == 2 and body["numberMatched"] == 3
    assert body["timeStamp"].endswith("Z")
    assert [f["id"] for f in body["features"]] == [data["lines"][0]["id"], data["lines"][1]["id"]]
    assert body["features"][0]["geometry"]["coordinates"] == [list(c) for c in LINE]
    following = next(link["href"] for link in body["links"] if link["rel"] == "next")
    second = client.get(following, headers=headers).json()
    assert [f["id"] for f in second["features"]] == [data["lines"][2]["id"]]
    assert "numberMatched" not in second and not [link for link in second["links"] if link["rel"] == "next"]
    assert not [link for link in body["links"] if link["rel"] == "prev"]
    back = next(link["href"] for link in second["links"] if link["rel"] == "prev")
    assert client.get(back, headers=headers).json()["features"] == body["features"]


def test_prev_links_walk_back_page_by_page(client: TestClient, auth: Auth, data: dict[str, Any]) -> None:
    headers = auth(Role.inspector)
    ids = [line["id"] for line in data["lines"]]
    last = get(client, headers, "/collections/lines/items", limit=1, cursor=str(ids[1])).json()
    middle = client.get(next(link["href"] for link in last["links"] if link["rel"] == "prev"), headers=headers).json()
    first = client.get(next(link["href"] for link in middle["links"] if link["rel"] == "prev"), headers=headers).json()

    assert [f["id"] for f in (*last["features"], *middle["features"], *first["features"])] == ids[::-1]
    assert "cursor" not in next(link["href"] for link in middle["links"] if link["rel"] == "prev")


def test_property_filters_and_their_queryables(client: TestClient, auth: Auth, data: dict[str, Any]) -> None:
    headers = auth(Role.inspector)
    tens = get(client, headers, "/collections/lines/items", nominal_kv="10").json()
    queryables = get(client, headers, "/collections/lines/queryables")
    unknown = client.get(f"{OGC}/collections/lines/items", params={"voltage": "10"}, headers=headers)
    wrong_type = client.get(f"{OGC}/collections/lines/items", params={"nominal_kv": "ten"}, headers=headers)

    assert tens["numberMatched"] == 2 and {f["properties"]["nominal_kv"] for f in tens["features"]} == {10.0}
    schema = queryables.json()
    assert queryables.headers["content-type"] == "application/schema+json"
    assert schema["properties"]["nominal_kv"]["type"] == "number"
    assert schema["properties"]["construction"]["enum"] == ["overhead", "cable"]
    assert "bbox" not in schema["properties"] and "cursor" not in schema["properties"]
    assert unknown.status_code == 400 and unknown.headers["content-type"] == "application/problem+json"
    assert "nominal_kv" in unknown.json()["detail"]
    assert wrong_type.status_code == 400


def test_cases_are_points_without_the_applicants_personal_data(client: TestClient, auth: Auth,
                                                               data: dict[str, Any]) -> None:
    body = get(client, auth(Role.auditor), "/collections/cases/items").json()
    one = get(client, auth(Role.auditor), f"/collections/cases/items/{data['case']['id']}").json()
    by_state = get(client, auth(Role.auditor), "/collections/cases/items", state=data["case"]["state"]).json()

    assert [f["id"] for f in body["features"]] == [data["case"]["id"]] == [one["id"]]
    props = body["features"][0]["properties"]
    assert props["number"] == data["case"]["number"] and props["state"] == data["case"]["state"]
    assert {"kind", "department", "deadline_at", "voltage_kv"} <= set(props)
    text = json.dumps(body, ensure_ascii=False)
    assert "张三" not in text and "13800138000" not in text and "110101199003071234" not in text
    assert body["features"][0]["geometry"] == {"type": "Point", "coordinates": [117.4, 31.9]}
    assert by_state["numberReturned"] == 1


@pytest.mark.parametrize(("code", "lat_first"), [(4326, True), (4490, True), (3857, False)])
def test_output_crs_with_its_axis_order(client: TestClient, auth: Auth, data: dict[str, Any],
                                        code: int, lat_first: bool) -> None:
    uri = EPSG.format(code)
    response = get(client, auth(Role.inspector), f"/collections/transformers/items/{data['transformer']['id']}",
                   crs=uri)
    x, y = response.json()["geometry"]["coordinates"]

    expected = Transformer.from_crs(4326, code, always_xy=True).transform(117.30, 31.85)
    if lat_first:
        expected = expected[::-1]
    assert response.headers["content-crs"] == f"<{uri}>"
    assert (x, y) == pytest.approx(expected, abs=1e-6)


def test_bbox_in_each_crs_selects_the_same_features(client: TestClient, auth: Auth, data: dict[str, Any]) -> None:
    headers = auth(Role.inspector)
    box_lonlat = (117.29, 31.84, 117.315, 31.865)  # the transformer and the customer
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    mercator = to_3857.transform_bounds(*box_lonlat)
    lat_lon = (box_lonlat[1], box_lonlat[0], box_lonlat[3], box_lonlat[2])

    def ids(collection: str, bbox: tuple[float, ...], crs: str | None) -> list[int]:
        params = {"bbox": ",".join(str(v) for v in bbox), **({"bbox-crs": crs} if crs else {})}
        return [f["id"] for f in get(client, headers, f"/collections/{collection}/items", **params).json()["features"]]

    expected = [data["transformer"]["id"]]
    assert ids("transformers", box_lonlat, None) == expected
    assert ids("transformers", lat_lon, EPSG.format(4326)) == expected
    assert ids("transformers", mercator, EPSG.format(3857)) == expected
    # lon,lat sent as EPSG:4326 is read as lat,lon: a latitude of 117 degrees.
    swapped = client.get(f"{OGC}/collections/transformers/items", headers=headers,
                         params={"bbox": ",".join(str(v) for v in box_lonlat), "bbox-crs": EPSG.format(4326)})
    assert swapped.status_code == 400
    assert ids("lines", box_lonlat, None) == []


@pytest.mark.parametrize("params", [
    {"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "3,2,1,4"}, {"bbox": "0,0,200,10"},
    {"bbox": "0,0,1,1", "bbox-crs": "EPSG:4547"}, {"crs": "http://www.opengis.net/def/crs/EPSG/0/4978"},
    {"limit": "0"}, {"limit": "ten"}, {"limit": "-5"}, {"cursor": "abc"}, {"f": "xml"},
])
def test_what_cannot_be_served_is_a_400_problem(client: TestClient, auth: Auth, params: dict[str, str]) -> None:
    response = client.get(f"{OGC}/collections/lines/items", params=params, headers=auth(Role.inspector))

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_limit_above_the_maximum_is_served_as_the_maximum(client: TestClient, auth: Auth,
                                                            data: dict[str, Any]) -> None:
    body = get(client, auth(Role.inspector), "/collections/lines/items", limit="999999999").json()

    assert body["numberReturned"] == 3


def test_unknown_collections_and_features_are_404(client: TestClient, auth: Auth, data: dict[str, Any]) -> None:
    headers = auth(Role.inspector)
    for path in ("/collections/nowhere", "/collections/nowhere/items", "/collections/lines/items/999999",
                 "/collections/lines/items/abc", "/collections/zones/items/derived-x",
                 f"/collections/lines/items/{data['transformer']['id'] + 1000}"):
        assert client.get(OGC + path, headers=headers).status_code == 404, path


def test_zones_page_and_single_zone(client: TestClient, auth: Auth, data: dict[str, Any]) -> None:
    headers = auth(Role.inspector)
    zones = get(client, headers, "/collections/zones/items", limit=1).json()
    first = zones["features"][0]
    one = get(client, headers, f"/collections/zones/items/{first['id']}", crs=EPSG.format(4326)).json()
    following = next(link["href"] for link in zones["links"] if link["rel"] == "next")
    second = client.get(following, headers=headers).json()

    assert first["id"].startswith("derived-") and one["id"] == first["id"]
    lon, lat = first["geometry"]["coordinates"][0][0][0]
    assert one["geometry"]["coordinates"][0][0][0] == pytest.approx([lat, lon], abs=1e-7)
    assert second["features"][0]["id"] != first["id"]


def test_customers_are_masked_per_role_and_full_numbers_are_logged(
        client: TestClient, auth: Auth, data: dict[str, Any], session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db:
        before = db.scalar(select(func.max(AuditRecord.id)))
    auditor = get(client, auth(Role.auditor), "/collections/customers/items").json()
    auditor_one = get(client, auth(Role.auditor),
                      f"/collections/customers/items/{data['customer']['id']}").json()
    dispatcher = get(client, auth(Role.dispatcher), "/collections/customers/items").json()

    assert auditor["features"][0]["properties"]["contact_phone"] == mask_phone(PHONE) != PHONE
    assert auditor_one["properties"]["contact_phone"] == mask_phone(PHONE)
    assert dispatcher["features"][0]["properties"]["contact_phone"] == PHONE
    with session_factory() as db:
        views = list(db.scalars(select(AuditRecord).where(AuditRecord.action == "customer.contact_view",
                                                          AuditRecord.id > before)))
    assert [(v.actor_name, v.after["account_numbers"]) for v in views] == [
        ("test-dispatcher", [data["customer"]["properties"]["account_number"]])]


def test_html_pages_are_escaped_and_load_nothing_from_elsewhere(client: TestClient, auth: Auth,
                                                                data: dict[str, Any]) -> None:
    dispatcher = auth(Role.dispatcher)
    created(client, dispatcher, "lines", name="<script>alert(1)</script>")
    pages = [get(client, dispatcher, path, f="html") for path in
             ("", "/conformance", "/collections", "/collections/lines", "/collections/lines/items",
              "/collections/lines/queryables", f"/collections/lines/items/{data['lines'][0]['id']}")]
    browser = client.get(f"{OGC}/collections", headers={**dispatcher, "Accept": "text/html,*/*"})

    for response in pages:
        assert response.headers["content-type"].startswith("text/html")
        assert "<script" not in response.text and "src=" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[4].text
    assert browser.headers["content-type"].startswith("text/html")
