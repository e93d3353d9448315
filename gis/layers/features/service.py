"""OGC API Features over the layer catalogue: landing page, conformance, collections, queryables,
items and single items, each as a ready response (`Rendered`) in JSON or HTML. Keyword-only, no HTTP.

Every catalogue layer the caller may read is a collection (one they may not read is neither listed
nor served: 403). Items of managed layers and read-only tables are written by the generic list SQL
(`gis.layers.service`), with the layer's privacy rule (customers' phone numbers masked per role, and
full numbers shown logged) and the output CRS transformed in the database; derived layers (zones) by
their own SQL through `ReadOnlyLayer.page`. Paging is keyset: the `next` link carries the last
feature's key, so pages never shift while data changes underneath.
"""

from __future__ import annotations

import enum
import json
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric
from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import InvalidQuery, NotFound, PermissionDenied
from core.permissions import has_permission
from gis.layers import service as layer_service
from gis.layers.features import html
from gis.layers.features.crs import CRS84, SUPPORTED_URIS, parse_bbox, parse_crs_uri
from gis.layers.features.settings import FeaturesSettings
from gis.layers.schemas import ListQuery
from gis.layers.spec import AnyLayer, LayerSpec, PageQuery, ReadOnlyLayer

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
Format = Literal["json", "html"]

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)
# Query parameters of the items request that are not property filters.
ITEMS_PARAMETERS = frozenset({"f", "limit", "bbox", "bbox-crs", "crs", "cursor"})
CURSOR_SEPARATOR = "."


@dataclass(frozen=True)
class Rendered:
    """A response body ready to send, its media type and headers (`Content-Crs` for features)."""

    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    """Where the request was made: the service's root URL (`.../ogc`) and the full URL asked for."""

    root: str
    url: str

    def with_query(self, **changes: str | None) -> str:
        """This request's URL with query parameters replaced (None removes one)."""
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in changes]
        query += [(k, v) for k, v in changes.items() if v is not None]
        return urlunsplit(parts._replace(query=urlencode(query)))


def _link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    found = {"href": href, "rel": rel, "type": media_type}
    return found | ({"title": title} if title else {})


def _self_links(where: Where, fmt: Format, json_type: str = JSON) -> list[dict[str, str]]:
    own, other = (json_type, HTML) if fmt == "json" else (HTML, json_type)
    return [_link(where.with_query(f=fmt), "self", own, "this document"),
            _link(where.with_query(f="html" if fmt == "json" else "json"), "alternate", other,
                  "this document as " + ("HTML" if fmt == "json" else "JSON"))]


def _json(data: dict[str, Any], media_type: str = JSON, headers: dict[str, str] | None = None) -> Rendered:
    return Rendered(json.dumps(data, ensure_ascii=False).encode(), media_type, headers or {})


def _html(text: str, headers: dict[str, str] | None = None) -> Rendered:
    return Rendered(text.encode(), HTML + "; charset=utf-8", headers or {})


def landing(*, settings: FeaturesSettings, where: Where, fmt: Format, openapi_url: str) -> Rendered:
    links = [*_self_links(where, fmt),
             _link(openapi_url, "service-desc", OPENAPI, "the API definition"),
             _link(f"{where.root}/conformance", "conformance", JSON, "conformance classes"),
             _link(f"{where.root}/collections", "data", JSON, "the collections")]
    description = "The utility's network, zones, customers and cases for GIS clients (OGC API Features)."
    if fmt == "html":
        return _html(html.page(title=settings.title, description=description, links=links))
    return _json({"title": settings.title, "description": description, "links": links})


def conformance(*, where: Where, fmt: Format) -> Rendered:
    data = {"conformsTo": list(CONFORMANCE)}
    if fmt == "html":
        return _html(html.page(title="Conformance", links=_self_links(where, fmt), body=html.document(data)))
    return _json({**data, "links": _self_links(where, fmt)})


def _readable(actor: Actor, layers: Sequence[AnyLayer]) -> list[AnyLayer]:
    return [layer for layer in layers if has_permission(actor.role, layer.read_permission)]


def _layer(actor: Actor, layers: Sequence[AnyLayer], collection_id: str) -> AnyLayer:
    layer = next((layer for layer in layers if layer.name == collection_id), None)
    if layer is None:
        raise NotFound(f"There is no collection {collection_id!r}.")
    if not has_permission(actor.role, layer.read_permission):
        raise PermissionDenied(f"Role {actor.role} may not read {collection_id} (needs {layer.read_permission}).")
    return layer


def _collection(db: Session, layer: AnyLayer, root: str) -> dict[str, Any]:
    base = f"{root}/collections/{layer.name}"
    extent = layer_service.estimated_extent(db=db, layer=layer)
    return {
        "id": layer.name, "title": layer.title, "itemType": "feature",
        **({"extent": {"spatial": {"bbox": [list(extent)], "crs": CRS84}}} if extent is not None else {}),
        "crs": list(SUPPORTED_URIS), "storageCrs": CRS84,
        "links": [_link(base, "self", JSON, "this collection"),
                  _link(f"{base}?f=html", "alternate", HTML, "this collection as HTML"),
                  _link(f"{base}/items", "items", GEOJSON, "the features"),
                  _link(f"{base}/items?f=html", "items", HTML, "the features as HTML"),
                  _link(f"{base}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON,
                        "the properties items can be filtered by"),
                  # GDAL's OAPIF driver reads field types from `describedBy` (its spelling), OGC names it
                  # `describedby`; both point at the same schema.
                  *([_link(f"{base}/schema", rel, SCHEMA_JSON, "the schema of the features")
                     for rel in ("describedby", "describedBy")] if not isinstance(layer, ReadOnlyLayer) else [])],
    }


def collections(*, db: Session, actor: Actor, layers: Sequence[AnyLayer], where: Where, fmt: Format) -> Rendered:
    """The collections of `layers` (the app's catalogue) the caller may read (others are left out),
    each with its extent where the database's statistics know it."""
    found = [_collection(db, layer, where.root) for layer in _readable(actor, layers)]
    links = _self_links(where, fmt)
    if fmt == "html":
        rows = [[c["id"], c["title"], c["links"][2]["href"]] for c in found]
        return _html(html.page(title="Collections", links=links, body=html.table(["id", "title", "items"], rows)))
    return _json({"links": links, "collections": found, "crs": list(SUPPORTED_URIS)})


def collection(*, layers: Sequence[AnyLayer], db: Session, actor: Actor, where: Where, fmt: Format,
               collection_id: str) -> Rendered:
    found = _collection(db, _layer(actor, layers, collection_id), where.root)
    if fmt == "html":
        return _html(html.page(title=found["title"], links=found["links"],
                               body=html.document({k: v for k, v in found.items() if k != "links"})))
    return _json(found)


# Queryables -------------------------------------------------------------------------------------

def _filter_model(layer: AnyLayer) -> tuple[type[BaseModel] | None, frozenset[str]]:
    """The model property filters are checked with, and the names it takes as filters."""
    if isinstance(layer, LayerSpec):
        return layer.query, frozenset(layer.query.model_fields) - layer.query.not_column_filters
    model = layer.filters
    return model, frozenset(model.model_fields) if model is not None else frozenset()


def _json_type(annotation: Any) -> dict[str, Any]:
    """The JSON schema of a filter field's type (an optional scalar, enum or literal)."""
    args = [a for a in (get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,))
            if a is not type(None)]
    kind = args[0] if args else str
    if get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if get_origin(kind) is Literal:
        return {"type": "string", "enum": list(get_args(kind))}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return {"type": "string", "enum": [member.value for member in kind]}
    names = {bool: "boolean", int: "integer", float: "number"}
    return {"type": names.get(kind, "string")}


def queryables(*, layers: Sequence[AnyLayer], actor: Actor, where: Where, fmt: Format, collection_id: str) -> Rendered:
    """The properties `items` takes as `?name=value` filters (OGC API Features Part 3), as JSON Schema."""
    layer = _layer(actor, layers, collection_id)
    model, names = _filter_model(layer)
    properties = {name: {"title": name, **_json_type(model.model_fields[name].annotation)}
                  for name in sorted(names)} if model is not None else {}
    data = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": where.with_query(f=None),
            "type": "object", "title": layer.title, "properties": properties, "additionalProperties": False}
    if fmt == "html":
        return _html(html.page(title=f"Queryables of {layer.title}", links=_self_links(where, fmt, SCHEMA_JSON),
                               body=html.document(data)))
    return _json(data, SCHEMA_JSON)


def _column_schema(column: Any) -> dict[str, Any]:
    """The JSON Schema of a column's values as the list SQL writes them."""
    kind = column.type
    if isinstance(kind, Boolean):
        return {"type": "boolean"}
    if isinstance(kind, Integer):
        return {"type": "integer"}
    if isinstance(kind, Float | Numeric):
        return {"type": "number"}
    if isinstance(kind, DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(kind, Date):
        return {"type": "string", "format": "date"}
    return {"type": "string"}


def feature_schema(*, layers: Sequence[AnyLayer], actor: Actor, where: Where, fmt: Format,
                   collection_id: str) -> Rendered:
    """The JSON Schema of a table layer's features, typed from its columns (the `describedby` link):
    GIS clients otherwise guess each field's type from the first page, and a kVA of 630 there makes
    a whole number column that cuts a later 630.5 down to 630. Derived layers have none (404)."""
    layer = _layer(actor, layers, collection_id)
    if isinstance(layer, ReadOnlyLayer):
        raise NotFound(f"{collection_id} is derived data without a fixed schema; its features say their types.")
    model: Any = layer.model
    table = model.__table__
    properties = {name: {"title": name, **_column_schema(table.c[name])} for name in layer.properties}
    data = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": where.with_query(f=None),
            "title": layer.title, "type": "object", "required": ["type", "geometry", "properties"],
            "properties": {"type": {"type": "string", "enum": ["Feature"]},
                           "id": {"type": "integer"},
                           "geometry": {"type": "object", "title": "GeoJSON geometry"},
                           "properties": {"type": "object", "properties": properties}}}
    if fmt == "html":
        return _html(html.page(title=f"Schema of {layer.title}", links=_self_links(where, fmt, SCHEMA_JSON),
                               body=html.document(data)))
    return _json(data, SCHEMA_JSON)


def _property_filters(layer: AnyLayer, raw: dict[str, str]) -> dict[str, Any]:
    model, names = _filter_model(layer)
    unknown = sorted(set(raw) - names)
    if unknown:
        raise InvalidQuery(f"Unknown query parameter(s) {', '.join(unknown)}; {layer.name} is filtered by: "
                           f"{', '.join(sorted(names)) or 'nothing'} (see its queryables).",
                           errors=[{"field": name, "message": "unknown parameter"} for name in unknown])
    if not raw or model is None:
        return {}
    try:
        checked = model.model_validate(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise InvalidQuery("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors) from exc
    if isinstance(checked, ListQuery):
        return checked.attribute_filters()
    return checked.model_dump(mode="json", exclude_none=True)


# Items ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemsQuery:
    """An items request's parameters as sent (each checked here); `filters` are the other parameters."""

    limit: str | None = None
    bbox: str | None = None
    bbox_crs: str | None = None
    crs: str | None = None
    cursor: str | None = None
    filters: dict[str, str] = field(default_factory=dict)


def _limit(value: str | None, settings: FeaturesSettings) -> int:
    if value is None:
        return min(settings.default_limit, settings.max_limit)
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise InvalidQuery("limit must be a whole number of at least 1.",
                           errors=[{"field": "limit", "message": "not a positive integer"}])
    return min(int(value), settings.max_limit)


def _cursor(value: str | None, layer: AnyLayer) -> tuple[int, ...] | None:
    if value is None:
        return None
    parts = value.split(CURSOR_SEPARATOR)
    size = 1 if not isinstance(layer, ReadOnlyLayer) else 2
    if len(parts) != size or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        raise InvalidQuery("cursor is not valid; follow the `next` link of the previous page.",
                           errors=[{"field": "cursor", "message": "invalid"}])
    return tuple(int(p) for p in parts)


@dataclass(frozen=True)
class _Page:
    features: str  # the Feature texts, comma-joined
    returned: int
    last_key: tuple[int, ...] | None
    first_key: tuple[int, ...] | None = None


def _read(*, db: Session, actor: Actor, layer: AnyLayer, query: PageQuery) -> _Page:
    """One page of `layer`: the generic list SQL for tables, the layer's own for derived layers."""
    if isinstance(layer, ReadOnlyLayer):
        keyed = layer.page(db=db, query=query)
        return _Page(",".join(text for _, text in keyed), len(keyed), keyed[-1][0] if keyed else None,
                     keyed[0][0] if keyed else None)
    page = layer_service.list_features_for(db=db, actor=actor, layer=layer, filters=query.filters, bbox=query.bbox,
                                           after_id=query.after[0] if query.after else None, limit=query.limit,
                                           output=query.output)
    return _Page(page.features, len(page.ids), (page.ids[-1],) if page.ids else None,
                 (page.ids[0],) if page.ids else None)


def items(*, layers: Sequence[AnyLayer], db: Session, actor: Actor, settings: FeaturesSettings, where: Where, fmt: Format, collection_id: str,
          query: ItemsQuery, now: datetime) -> Rendered:
    """A page of a collection's features as a GeoJSON FeatureCollection (or an HTML table).

    `numberMatched` is given on a first page of a table layer when no more than `count_at_most`
    features match (an exact count stays an index scan of a bounded number of rows); later pages
    and derived layers leave it out. Later pages of table layers link their `prev` page (derived
    layers page forwards only)."""
    layer = _layer(actor, layers, collection_id)
    filters = _property_filters(layer, query.filters)
    crs_uri, output = parse_crs_uri(query.crs, field="crs")
    bbox = parse_bbox(query.bbox, query.bbox_crs)
    limit = _limit(query.limit, settings)
    after = _cursor(query.cursor, layer)
    page = _read(db=db, actor=actor, layer=layer, query=PageQuery(filters=filters, bbox=bbox, after=after,
                                                                  limit=limit, on_date=now.date(), output=output))
    matched = None
    if after is None and settings.count_at_most and not isinstance(layer, ReadOnlyLayer):
        matched = (page.returned if page.returned < limit else
                   layer_service.count_features(db=db, layer=layer, filters=filters, bbox=bbox,
                                                at_most=settings.count_at_most))
    links = _self_links(where, fmt, GEOJSON)
    links.append(_link(f"{where.root}/collections/{layer.name}", "collection", JSON, layer.title))
    page_type = GEOJSON if fmt == "json" else HTML
    if page.returned == limit and page.last_key is not None:
        cursor = CURSOR_SEPARATOR.join(str(k) for k in page.last_key)
        links.append(_link(where.with_query(cursor=cursor, f=fmt), "next", page_type, "the next page"))
    if after is not None and page.first_key is not None and not isinstance(layer, ReadOnlyLayer):
        exists, start = layer_service.previous_start(db=db, layer=layer, filters=filters, bbox=bbox,
                                                     before_id=page.first_key[0], limit=limit)
        if exists:
            links.append(_link(where.with_query(cursor=None if start is None else str(start), f=fmt), "prev",
                               page_type, "the previous page"))
    headers = {"Content-Crs": f"<{crs_uri}>"}
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tail: dict[str, Any] = {"numberReturned": page.returned, "timeStamp": stamp, "links": links}
    if matched is not None:
        tail["numberMatched"] = matched
    if fmt == "html":
        body = html.features_table(json.loads(f"[{page.features}]"))
        return _html(html.page(title=layer.title, description=f"{page.returned} features", links=links,
                               body=body), headers)
    head = b'{"type":"FeatureCollection","features":['
    return Rendered(b"".join((head, page.features.encode(), b"],", json.dumps(tail).encode()[1:])), GEOJSON, headers)


def _key(layer: AnyLayer, feature_id: str) -> tuple[int, ...] | None:
    if isinstance(layer, ReadOnlyLayer):
        return layer.feature_key(feature_id)
    return (int(feature_id),) if feature_id.isascii() and feature_id.isdigit() and len(feature_id) <= 18 else None


def item(*, layers: Sequence[AnyLayer], db: Session, actor: Actor, where: Where, fmt: Format, collection_id: str, feature_id: str,
         crs: str | None, now: datetime) -> Rendered:
    """One feature, read as its page of one: the same SQL, privacy rule and CRS as the items."""
    layer = _layer(actor, layers, collection_id)
    crs_uri, output = parse_crs_uri(crs, field="crs")
    key = _key(layer, feature_id)
    missing = NotFound(f"{collection_id} has no feature {feature_id!r}.")
    if key is None:
        raise missing
    if isinstance(layer, ReadOnlyLayer):
        query = PageQuery(filters={}, bbox=None, after=(*key[:-1], key[-1] - 1), limit=1, on_date=now.date(),
                          output=output)
    else:
        query = PageQuery(filters={"id": key[0]}, bbox=None, after=None, limit=1, on_date=now.date(), output=output)
    page = _read(db=db, actor=actor, layer=layer, query=query)
    if page.last_key != key:
        raise missing
    feature = json.loads(page.features)
    links = [*_self_links(where, fmt, GEOJSON),
             _link(f"{where.root}/collections/{layer.name}", "collection", JSON, layer.title)]
    headers = {"Content-Crs": f"<{crs_uri}>"}
    if fmt == "html":
        return _html(html.page(title=f"{layer.title}: {feature_id}", links=links,
                               body=html.features_table([feature]) + html.document(feature.get("geometry"))),
                     headers)
    return _json({**feature, "links": links}, GEOJSON, headers)

