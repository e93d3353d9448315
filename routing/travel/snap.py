"""Snapping points onto the road network, and the refusal of a point that is off it.

Each point is snapped to the nearest road the mode may use: a KNN search (`<->` on the roads' GiST
index) takes the few nearest edges in degrees, and the nearest of those on the geography (metres)
wins; degrees shrink eastwards away from the equator, hence several candidates. A point farther than
`snap.max_distance_m` (`routing/data/routing.json`) is refused: a wrong coordinate or roads missing
from the import, which a plan must not paper over."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from routing.problem import Point
from routing.rules import routing_rules
from routing.travel.graph import mode_speeds

# Edges the KNN search hands to the exact (geography) comparison, per point.
KNN_CANDIDATES = 8

SNAP_SQL = text("""
WITH pts AS (
  SELECT p.ord - 1 AS idx, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS geom
  FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, ord)
)
SELECT pts.idx, near.source_vertex, near.target_vertex, near.length_m, near.road_class, near.distance_m,
       near.fraction
FROM pts
LEFT JOIN LATERAL (
  SELECT c.source_vertex, c.target_vertex, c.length_m, c.road_class,
         ST_Distance(c.geom::geography, pts.geom::geography) AS distance_m,
         ST_LineLocatePoint(c.geom, pts.geom) AS fraction
  FROM (SELECT r.source_vertex, r.target_vertex, r.length_m, r.road_class, r.geom FROM roads r
        WHERE r.road_class = ANY(CAST(:classes AS text[]))
        ORDER BY r.geom <-> pts.geom LIMIT :candidates) c
  ORDER BY distance_m LIMIT 1
) near ON true
ORDER BY pts.idx
""")


class OffRoadNetwork(InvalidInput):
    """Points farther than the snapping limit from every road their mode may use. `indexes` are
    positions in the point list (the service names the job or crew member), `distances_m` how far
    each one is from the nearest usable road."""

    def __init__(self, detail: str, *, indexes: list[int], distances_m: list[float],
                 errors: list[dict[str, str]]) -> None:
        super().__init__(detail, errors=list(errors))
        self.indexes = indexes
        self.distances_m = distances_m


@dataclass(frozen=True)
class SnappedPoint:
    """Where a point joins the graph: `vertex` (the nearer end of its nearest edge), the access leg
    from the point to that vertex (`access_m`: the snapping distance plus the distance along the edge,
    `access_s`: that at the edge's speed for the mode) and the snapping distance alone."""

    vertex: int
    access_m: float
    access_s: float
    snapped_m: float


def snap_points(db: Session, *, points: Sequence[Point], mode: str) -> list[SnappedPoint | float]:
    """Each point snapped for the mode, or (a float) its distance to the nearest usable road when
    beyond the limit. One statement for all points."""
    speeds = mode_speeds(mode)
    rows = db.execute(SNAP_SQL, {"lons": [p.lon for p in points], "lats": [p.lat for p in points],
                                 "classes": list(speeds), "candidates": KNN_CANDIDATES}).all()
    limit = routing_rules().snap_max_m
    snapped: list[SnappedPoint | float] = []
    for row in rows:
        if row.distance_m is None:  # no road at all the mode may use (a footpath network, and a car)
            raise InvalidInput(f"The road network has no road a {mode} may use.",
                               errors=[{"field": "modes", "message": f"no road in the network is usable by {mode}"}])
        if row.distance_m > limit:
            snapped.append(float(row.distance_m))
            continue
        to_source = row.fraction * row.length_m
        along, vertex = ((to_source, row.source_vertex) if row.fraction <= 0.5
                         else (row.length_m - to_source, row.target_vertex))
        access_m = row.distance_m + along
        snapped.append(SnappedPoint(vertex=int(vertex), access_m=access_m,
                                    access_s=access_m / speeds[row.road_class], snapped_m=float(row.distance_m)))
    return snapped


def snap_all(db: Session, *, points: Sequence[Point], modes: Collection[str]) -> dict[str, list[SnappedPoint]]:
    """Every point snapped for every mode; raises `OffRoadNetwork` naming every point that is off
    the network for some mode (with its largest distance)."""
    by_mode: dict[str, list[SnappedPoint]] = {}
    off: dict[int, tuple[float, str]] = {}
    for mode in sorted(set(modes)):
        found = snap_points(db, points=points, mode=mode)
        for index, item in enumerate(found):
            if isinstance(item, float) and item > off.get(index, (-1.0, ""))[0]:
                off[index] = (item, mode)
        by_mode[mode] = [item for item in found if isinstance(item, SnappedPoint)]
    if off:
        limit = routing_rules().snap_max_m
        indexes = sorted(off)
        raise OffRoadNetwork(
            f"{len(indexes)} point(s) are farther than {limit:.0f} m from the road network.",
            indexes=indexes, distances_m=[off[i][0] for i in indexes],
            errors=[{"field": f"points[{i}]",
                     "message": f"{off[i][0]:.0f} m from the nearest road usable by {off[i][1]} "
                                f"(the limit is {limit:.0f} m)"} for i in indexes])
    return by_mode
