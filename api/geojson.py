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


def _paging(request: Request, returned: int, last_id: int | None, limit: int) -> dict[str, Any]:
    """`numberReturned`, and a `next` link when the page is full (there may be more)."""
    paging: dict[str, Any] = {"numberReturned": returned, "links": []}
    if returned == limit and last_id is not None:
        cursor = encode_cursor(last_id)
        paging["next_cursor"] = cursor
        paging["links"].append({"rel": "next", "type": GEOJSON,
                                "href": str(request.url.include_query_params(cursor=cursor))})
    return paging


def feature_collection(request: Request, records: list[FeatureRecord], limit: int) -> dict[str, Any]:
    last_id = records[-1].id if records else None
    return {"type": "FeatureCollection", "features": [feature(r) for r in records],
            **_paging(request, len(records), last_id, limit)}


def feature_collection_bytes(request: Request, features: list[tuple[int, str]], limit: int) -> bytes:
    """The same collection as `feature_collection`, assembled from Feature texts the database wrote."""
    last_id = features[-1][0] if features else None
    head = '{"type":"FeatureCollection","features":[' + ",".join(text for _, text in features) + "],"
    return (head + json.dumps(_paging(request, len(features), last_id, limit))[1:]).encode()
