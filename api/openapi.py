"""The OpenAPI document, made to tell the truth so that generated clients work.

FastAPI documents what a handler returns when all goes well. This module adds, in one place, what
each operation can answer otherwise, derived from the operation itself rather than written by hand:

- every error is RFC 9457 `application/problem+json` (one `Problem` schema), never FastAPI's default;
- signing in is required (an auth dependency) -> 401; a permission check -> 403;
- a path parameter -> 404; any parameter or body -> 422; a body -> 413;
- `If-Match` (the version dependency) -> a required header, 412 and 428; writes -> 409;
- the database (unit of work) -> 503 with Retry-After; sign-in -> 429 with Retry-After;
- GeoJSON answers are `application/geo+json` with a Feature or FeatureCollection schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api import dependencies
from api.errors import PROBLEM_JSON
from api.geojson import GEOJSON
from core.bounds import INT64_MAX, INT64_MIN

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN_PATH = "/api/v1/auth/token"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details. `errors` names each offending field.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}
GEOJSON_FEATURE: dict[str, Any] = {
    "type": "object", "title": "Feature", "required": ["type", "geometry", "properties"],
    "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {"type": ["integer", "string"]},
                   "geometry": {"type": ["object", "null"]}, "properties": {"type": ["object", "null"]}},
}
GEOJSON_COLLECTION: dict[str, Any] = {
    "type": "object", "title": "FeatureCollection", "required": ["type", "features"],
    "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                   "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                   "numberReturned": {"type": "integer"}, "next_cursor": {"type": "string"},
                   "links": {"type": "array", "items": {"type": "object"}}},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}

# status -> (description, response headers)
ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    401: ("Not signed in, or the token is not valid",
          {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}),
    403: ("The signed-in user's role may not do this", {}),
    404: ("No such record", {}),
    409: ("The request clashes with the record's current state", {}),
    412: ("If-Match names a version that is no longer current", {}),
    413: ("The request body is larger than the limit", {}),
    422: ("Invalid input; `errors` names each field", {}),
    428: ("If-Match is required for this change", {}),
    429: ("Too many attempts; wait as Retry-After says", RETRY_AFTER),
    503: ("A backing service is down; nothing was saved", RETRY_AFTER),
}


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with the truthful document (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            describe_errors(app, document)
            _exact_integer_bounds(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_errors(app: FastAPI, document: dict[str, Any]) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    components["Feature"] = GEOJSON_FEATURE
    components["FeatureCollection"] = GEOJSON_COLLECTION
    for path, method, route in _operations(app):
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue
        calls = set(_calls(route.dependant))
        statuses = _error_statuses(path, method, route, calls)
        responses = operation.setdefault("responses", {})
        for status in sorted(statuses):
            description, headers = ERRORS[status]
            response = responses.setdefault(str(status), {"description": description})
            if headers:
                response["headers"] = headers
        for status, response in responses.items():  # derived ones and those a route declares itself
            if status.startswith(("4", "5")):
                response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
        if dependencies.if_match_version in calls:
            _require_if_match(operation)
        _geojson_only(path, method, responses)
        _idempotent_replay(operation, responses)
        _page_size_limit(operation, app.state.settings.api.max_page_size)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def _operations(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for route in iter_route_contexts(app.router.routes):
        original = route.original_route
        if not isinstance(original, APIRoute) or not original.include_in_schema:
            continue
        for method in route.methods or ():
            yield str(route.path_format), method, route  # type: ignore[misc]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _params(dependant: Dependant, kind: str) -> bool:
    if getattr(dependant, f"{kind}_params"):
        return True
    return any(_params(sub, kind) for sub in dependant.dependencies)


def _error_statuses(path: str, method: str, route: Any, calls: set[Callable[..., Any]]) -> set[int]:
    dependant: Dependant = route.dependant
    statuses: set[int] = set()
    if dependencies.get_actor in calls:
        statuses.add(401)
    if any(getattr(call, "__name__", "").startswith("require_") for call in calls):
        statuses.add(403)
    if _params(dependant, "path"):
        statuses.add(404)
    if any(_params(dependant, kind) for kind in ("path", "query", "header", "cookie", "body")) \
            or dependencies.get_actor in calls:
        statuses.add(422)
    if _params(dependant, "body"):
        statuses.add(413)
    if dependencies.if_match_version in calls:
        statuses |= {409, 412, 428}
    if method in WRITE_METHODS and dependencies.get_db in calls and dependencies.get_actor in calls:
        statuses.add(409)
    if dependencies.get_db in calls:
        statuses.add(503)
    if path == SIGN_IN_PATH:
        statuses |= {401, 429}  # a wrong password; too many of them
    return statuses


def _require_if_match(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "pattern": r'^(W/)?"?[0-9]+"?$', "title": "If-Match"}
            parameter["description"] = ('The ETag (version) of the record as last read, e.g. "3". A stale '
                                        "version is 412; a missing one 428.")


def _geojson_only(path: str, method: str, responses: dict[str, Any]) -> None:
    """GeoJSON answers are documented as `application/geo+json` alone, with their shape."""
    for response in responses.values():
        content = response.get("content", {})
        if GEOJSON not in content:
            continue
        content.pop("application/json", None)
        collection = method == "GET" and not path.endswith("}")
        content[GEOJSON] = {"schema": {"$ref": "#/components/schemas/"
                                               + ("FeatureCollection" if collection else "Feature")}}


def _idempotent_replay(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    """A create that takes `Idempotency-Key` answers a replayed key 200 with the first result."""
    takes_key = any(p["in"] == "header" and p["name"].lower() == "idempotency-key"
                    for p in operation.get("parameters", []))
    if takes_key and "201" in responses and "200" not in responses:
        responses["200"] = {**responses["201"], "description": "The same Idempotency-Key was used before: "
                                                               "the first submission's result, nothing new stored"}


def _exact_integer_bounds(node: Any) -> None:
    """FastAPI's OpenAPI model holds bounds as floats, and float(2**63 - 1) is 2**63: an integer's
    bounds are written back as exact integers, clamped to the `bigint` range every id lives in."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                value = node.get(key)
                if isinstance(value, float):
                    node[key] = min(max(int(value), INT64_MIN), INT64_MAX)
        for value in node.values():
            _exact_integer_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _exact_integer_bounds(value)


def _page_size_limit(operation: dict[str, Any], max_page_size: int) -> None:
    """A page's `limit` is capped by a setting (`GW_API_MAX_PAGE_SIZE`), known only when the app is built."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query" or parameter["name"] != "limit":
            continue
        for schema in [parameter["schema"], *parameter["schema"].get("anyOf", [])]:
            if schema.get("type") == "integer" and schema.get("maximum", INT64_MAX) >= INT64_MAX:
                schema["maximum"] = max_page_size
