"""Roads from an OpenStreetMap extract (`.osm.pbf`): the ways with a `highway` tag.

A way's direction: `oneway=yes|true|1` along the way, `-1` against it (the way is turned round),
a roundabout (`junction=roundabout|circular`) is oneway unless tagged `oneway=no`. A way whose
`highway` value is no road class of `routing.json` (proposed, construction, platform...) or whose
nodes lie outside the extract is skipped and counted: real extracts are full of both, and refusing
the file for them would make every city unimportable."""

from __future__ import annotations

import tempfile
from collections.abc import Hashable

import osmium

from core.errors import InvalidInput
from routing.roads.lines import ParsedRoads, RoadLine, oneway_direction, road_class, without_repeats

ROUNDABOUTS = frozenset({"roundabout", "circular"})
EXTERNAL_ID_PREFIX = "w"


def _direction(tags: osmium.osm.TagList) -> int | None:
    oneway = tags.get("oneway")
    if oneway is None and tags.get("junction") in ROUNDABOUTS:
        return 1
    return oneway_direction(oneway)


def _line(way: osmium.osm.Way, parsed: ParsedRoads) -> RoadLine | None:
    tags = way.tags
    highway = tags.get("highway", "")
    cls = road_class(highway)
    if cls is None:
        parsed.skipped[f"highway={highway} is not a road class"] += 1
        return None
    direction = _direction(tags)
    if direction is None:
        parsed.skipped[f"oneway={tags.get('oneway')} is not a direction (taken as both ways)"] += 1
        direction = 0
    try:
        keys: list[Hashable] = [node.ref for node in way.nodes]
        coordinates = [(node.lon, node.lat) for node in way.nodes]
    except osmium.InvalidLocationError:
        parsed.skipped["a node is missing from the extract"] += 1
        return None
    unique_keys, unique_coordinates = without_repeats(keys, coordinates)
    if len(unique_keys) < 2:
        parsed.skipped["fewer than two nodes"] += 1
        return None
    if direction < 0:
        unique_keys, unique_coordinates = unique_keys[::-1], unique_coordinates[::-1]
    return RoadLine(external_id=f"{EXTERNAL_ID_PREFIX}{way.id}", road_class=cls, name=(tags.get("name") or "")[:200],
                    oneway=direction != 0, keys=unique_keys, coordinates=unique_coordinates)


def read_osm(data: bytes) -> ParsedRoads:
    """The roads of an `.osm.pbf` file; raises `InvalidInput` when it is not one or has no roads."""
    parsed = ParsedRoads(file_format="osm_pbf")
    with tempfile.NamedTemporaryFile(suffix=".osm.pbf") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            processor = osmium.FileProcessor(tmp.name, osmium.osm.NODE | osmium.osm.WAY).with_locations()
            for obj in processor:
                if isinstance(obj, osmium.osm.Way) and "highway" in obj.tags:
                    line = _line(obj, parsed)
                    if line is not None:
                        parsed.lines.append(line)
        except RuntimeError as exc:
            raise InvalidInput(f"The file is not a readable OpenStreetMap extract: {exc}.",
                               errors=[{"field": "file", "message": "unreadable .osm.pbf"}]) from exc
    if not parsed.lines:
        raise InvalidInput("The extract has no road (no way with a known highway class).",
                           errors=[{"field": "file", "message": "no roads"}])
    return parsed
