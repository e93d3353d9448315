"""Read a Mapbox Vector Tile back (the protobuf of the MVT 2.1 spec): layer names, and per feature
its id, geometry type and properties. For tests, the benchmark (feature counts of our tiles and
tipg's) and tools; the API itself only writes tiles (PostGIS's `ST_AsMVT`)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
GEOMETRY_TYPES = {0: "Unknown", 1: "Point", 2: "LineString", 3: "Polygon"}


@dataclass
class Feature:
    id: int | None
    geometry_type: str
    properties: dict[str, Any]


@dataclass
class Layer:
    name: str = ""
    extent: int = 4096
    features: list[Feature] = field(default_factory=list)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of one message; length-delimited values as bytes."""
    found: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == VARINT:
            value, pos = _varint(data, pos)
        elif wire == FIXED64:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == FIXED32:
            value, pos = data[pos:pos + 4], pos + 4
        elif wire == LENGTH:
            size, pos = _varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        found.append((number, wire, value))
    return found


def _packed(data: bytes) -> list[int]:
    values, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        values.append(value)
    return values


def _value(data: bytes) -> Any:
    number, _wire, raw = _fields(data)[0]
    if number == 1:
        return raw.decode()
    if number == 2:
        return struct.unpack("<f", raw)[0]
    if number == 3:
        return struct.unpack("<d", raw)[0]
    if number == 6:
        return (raw >> 1) ^ -(raw & 1)
    if number == 7:
        return bool(raw)
    return raw  # 4 (int64) and 5 (uint64)


def _layer(data: bytes) -> Layer:
    layer = Layer()
    keys: list[str] = []
    values: list[Any] = []
    raw_features: list[bytes] = []
    for number, _wire, value in _fields(data):
        if number == 1:
            layer.name = value.decode()
        elif number == 2:
            raw_features.append(value)
        elif number == 3:
            keys.append(value.decode())
        elif number == 4:
            values.append(_value(value))
        elif number == 5:
            layer.extent = value
    for raw in raw_features:
        feature = Feature(id=None, geometry_type="Unknown", properties={})
        for number, _wire, value in _fields(raw):
            if number == 1:
                feature.id = value
            elif number == 2:
                tags = _packed(value)
                feature.properties = {keys[k]: values[v] for k, v in zip(tags[::2], tags[1::2], strict=True)}
            elif number == 3:
                feature.geometry_type = GEOMETRY_TYPES.get(value, "Unknown")
        layer.features.append(feature)
    return layer


def decode(tile: bytes) -> dict[str, Layer]:
    """The tile's layers by name (an empty tile has none)."""
    layers = [_layer(value) for number, _wire, value in _fields(tile) if number == 3]
    return {layer.name: layer for layer in layers}
