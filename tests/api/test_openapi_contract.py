"""The published contract tells the truth, so that generated clients work (issue 7 §6): errors are
problem+json with their real statuses, GeoJSON is application/geo+json, If-Match is documented where
it is required, integers are bounded as the database bounds them, and methods are answered honestly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.bounds import INT64_MAX, INT64_MIN
from core.permissions import Role

Auth = Callable[[Role], dict[str, str]]
B = "/api/v1"
PROBLEM = "application/problem+json"
GEOJSON = "application/geo+json"


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get(f"{B}/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    wrong = [f"{method} {path} {status}" for path, method, op in operations(document)
             for status, response in op["responses"].items()
             if status.startswith(("4", "5")) and set(response.get("content", {})) != {PROBLEM}]
    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_operations_that_need_a_token_document_401_403_and_422(document: dict[str, Any]) -> None:
    secured = [(path, method, op) for path, method, op in operations(document) if op.get("security")]
    assert len(secured) > 60
    # Signing out and changing one's own password are open to every signed-in user: no 403 to document
    # (but a personal access token may not: they document 403 for it). So are one's own tokens, the
    # OGC API's documents that name no collection, and the map style (it lists, for each reader, the
    # tile layers that reader may see).
    every_signed_in_user = {"/api/v1/auth/sign-out", "/api/v1/auth/password", "/api/v1/users/me/tokens",
                            "/api/v1/users/me/tokens/{token_id}", "/ogc", "/ogc/conformance", "/ogc/collections",
                            "/tiles/style.json"}
    missing = [f"{method} {path}" for path, method, op in secured
               if not ({"401", "422"} if path in every_signed_in_user else {"401", "403", "422"}) <= set(op["responses"])]
    assert missing == []


def test_every_write_that_takes_if_match_documents_it_as_required_with_412_and_428(document: dict[str, Any]) -> None:
    guarded = []
    for path, method, op in operations(document):
        if_match = [p for p in op.get("parameters", []) if p["in"] == "header" and p["name"] == "If-Match"]
        if if_match:
            guarded.append(f"{method} {path}")
            assert if_match[0]["required"] is True, (method, path)
            assert {"412", "428"} <= set(op["responses"]), (method, path)
    assert "PATCH /api/v1/network/lines/{feature_id}" in guarded
    assert "DELETE /api/v1/customers/{feature_id}" in guarded
    assert "POST /api/v1/cases/{case_id}/actions/{action}" in guarded
    assert "PUT /api/v1/calendars/{code}" in guarded


def test_operations_with_a_body_document_413_and_those_with_a_path_id_404(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        if "requestBody" in op:
            assert "413" in op["responses"], (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)


def test_503_with_retry_after_is_documented_where_the_database_is_used(document: dict[str, Any]) -> None:
    response = document["paths"][f"{B}/network/lines"]["get"]["responses"]["503"]
    assert "Retry-After" in response["headers"]
    assert "429" in document["paths"][f"{B}/auth/token"]["post"]["responses"]


def test_geojson_answers_are_documented_as_application_geo_json_only(document: dict[str, Any]) -> None:
    paths = document["paths"]
    listing = paths[f"{B}/network/lines"]["get"]["responses"]["200"]["content"]
    one = paths[f"{B}/network/lines/{{feature_id}}"]["get"]["responses"]["200"]["content"]
    created = paths[f"{B}/zones/manual"]["post"]["responses"]["201"]["content"]
    zones = paths[f"{B}/zones"]["get"]["responses"]["200"]["content"]
    assert set(listing) == set(one) == set(created) == set(zones) == {GEOJSON}
    assert listing[GEOJSON]["schema"]["$ref"].endswith("/FeatureCollection")
    assert one[GEOJSON]["schema"]["$ref"].endswith("/Feature")


def test_geojson_answers_carry_the_documented_media_type(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{B}/network/lines", headers=auth(Role.admin))
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON


def _integer_schemas(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "integer":
            yield where, node
        for key, value in node.items():
            yield from _integer_schemas(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _integer_schemas(value, f"{where}[{index}]")


def _request_schemas(document: dict[str, Any]) -> set[str]:
    """Component schemas reachable from request parameters and bodies."""
    names: set[str] = set()
    pending = [op.get("requestBody", {}) for _, _, op in operations(document)]
    pending += [p for _, _, op in operations(document) for p in op.get("parameters", [])]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in names:
                    names.add(name)
                    pending.append(document["components"]["schemas"][name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return names


def test_every_integer_a_client_sends_is_bounded_to_64_bits(document: dict[str, Any]) -> None:
    """An unbounded integer reaches PostgreSQL as an out-of-range value: a 500, not a 422."""
    unbounded = []
    for path, method, op in operations(document):
        for where, schema in _integer_schemas(op.get("parameters", []), f"{method} {path}"):
            if not (INT64_MIN <= schema.get("minimum", INT64_MIN - 1) and schema.get("maximum", INT64_MAX + 1)
                    <= INT64_MAX):
                unbounded.append(where)
    for name in _request_schemas(document):
        for where, schema in _integer_schemas(document["components"]["schemas"][name], name):
            if not (INT64_MIN <= schema.get("minimum", INT64_MIN - 1) and schema.get("maximum", INT64_MAX + 1)
                    <= INT64_MAX):
                unbounded.append(where)
    assert unbounded == []


def test_every_date_query_parameter_refuses_a_number(client: TestClient, auth: Auth,
                                                     document: dict[str, Any]) -> None:
    checked = []
    for path, method, op in operations(document):
        if method != "GET" or "{" in path:
            continue
        for parameter in op.get("parameters", []):
            formats = {s.get("format") for s in [parameter["schema"], *parameter["schema"].get("anyOf", [])]}
            if parameter["in"] == "query" and formats & {"date", "date-time"}:
                response = client.get(path, params={parameter["name"]: "0"}, headers=auth(Role.admin))
                assert response.status_code == 422, (path, parameter["name"], response.text)
                assert f"query.{parameter['name']}" in [e["field"] for e in response.json()["errors"]]
                checked.append(f"{path}?{parameter['name']}")
    assert {f"{B}/audit?until", f"{B}/audit?since", f"{B}/zones?on_date"} <= set(checked)


# --- methods ---------------------------------------------------------------------------------------

def test_options_on_a_resource_lists_all_its_methods(client: TestClient) -> None:
    response = client.options(f"{B}/network/lines/1")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE", "OPTIONS"}
    collection = client.options(f"{B}/network/lines")
    assert set(collection.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}


def test_a_method_a_path_does_not_serve_is_405_with_allow(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{B}/imports/geo", headers=auth(Role.admin))
    assert response.status_code == 405, response.text
    assert response.headers["content-type"] == PROBLEM
    assert set(response.headers["allow"].split(", ")) == {"POST", "OPTIONS"}
    put = client.put(f"{B}/network/lines/1", headers=auth(Role.admin))
    assert put.status_code == 405 and "PATCH" in put.headers["allow"] and "DELETE" in put.headers["allow"]


def test_an_id_that_is_not_a_number_is_no_such_resource(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{B}/network/lines/abc", headers=auth(Role.admin))
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


def test_page_size_is_documented_with_its_configured_cap(document: dict[str, Any], settings: Any) -> None:
    parameters = document["paths"][f"{B}/network/lines"]["get"]["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    assert limit["schema"]["anyOf"][0]["maximum"] == settings.api.max_page_size
