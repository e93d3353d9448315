"""Shaping records as RFC 7946 GeoJSON at the edge (features, collections, ETags, next links)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from api.dependencies import encode_cursor
from gis.network.service import FeatureRecord

GEOJSON = "application/geo+json"


def etag(version: int) -> str:
    return f'"{version}"'


def feature(record: FeatureRecord) -> dict[str, Any]:
    return {"type": "Feature", "id": record.id, "geometry": record.geometry, "properties": record.properties}


def feature_collection(request: Request, records: list[FeatureRecord], limit: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [feature(r) for r in records],
        "numberReturned": len(records),
        "links": [],
    }
    if len(records) == limit:
        cursor = encode_cursor(records[-1].id)
        body["next_cursor"] = cursor
        body["links"].append({"rel": "next", "type": GEOJSON,
                              "href": str(request.url.include_query_params(cursor=cursor))})
    return body


def feature_collection_bytes(request: Request, features: list[tuple[int, str]], limit: int) -> bytes:
    """The same collection as `feature_collection`, assembled from Feature texts the database wrote."""
    tail: dict[str, Any] = {"numberReturned": len(features), "links": []}
    if len(features) == limit:
        cursor = encode_cursor(features[-1][0])
        tail["next_cursor"] = cursor
        tail["links"].append({"rel": "next", "type": GEOJSON,
                              "href": str(request.url.include_query_params(cursor=cursor))})
    head = '{"type":"FeatureCollection","features":[' + ",".join(text for _, text in features) + "],"
    return (head + json.dumps(tail)[1:]).encode()
