"""Travel matrices over the imported road network with pgRouting.

Per mode: every point is snapped (`routing.travel.snap`) and joins the graph at the nearer end of
its nearest usable edge; the access leg (the snapping distance plus the stretch along that edge) is
added at both ends of a trip at that edge's speed for the mode, in either direction even on a oneway
edge (a short stretch, an approximation the dispatcher can live with). Between vertices,
`pgr_dijkstraCostMatrix` on a directed graph (oneway edges have no reverse) gives:

- durations: the fastest path, edge cost = length / speed of its class for the mode;
- distances: the shortest path by length (a second matrix), not the length of the fastest path.

Two points at the same coordinates are 0 apart. A pair with no path (a disconnected network, or a
oneway trap) is refused naming the points: a plan cannot be built on it."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from routing.problem import Point, TravelMatrices, TravelMatrix
from routing.travel.graph import edges_sql, load_speed_table
from routing.travel.snap import SnappedPoint, snap_all

COST_MATRIX_SQL = text("SELECT start_vid, end_vid, agg_cost "
                       "FROM pgr_dijkstraCostMatrix(CAST(:edges AS text), CAST(:vids AS bigint[]), directed => true)")
# Unreachable pairs named in a refusal; the rest are counted.
MAX_PAIRS_NAMED = 20


def _vertex_costs(db: Session, *, measure: str, vertices: list[int]) -> dict[tuple[int, int], float]:
    if len(vertices) < 2:
        return {}
    rows = db.execute(COST_MATRIX_SQL, {"edges": edges_sql(measure), "vids": vertices}).all()
    return {(int(row.start_vid), int(row.end_vid)): float(row.agg_cost) for row in rows}


def _mode_matrix(db: Session, *, points: Sequence[Point], snapped: list[SnappedPoint],
                 mode: str) -> tuple[TravelMatrix, list[tuple[int, int]]]:
    load_speed_table(db, mode=mode)
    vertices = sorted({s.vertex for s in snapped})
    seconds = _vertex_costs(db, measure="duration", vertices=vertices)
    metres = _vertex_costs(db, measure="length", vertices=vertices)
    size = len(points)
    durations, distances = np.zeros((size, size)), np.zeros((size, size))
    unreachable: list[tuple[int, int]] = []
    for i, a in enumerate(snapped):
        for j, b in enumerate(snapped):
            if i == j or points[i] == points[j]:
                continue
            pair = (a.vertex, b.vertex)
            if a.vertex != b.vertex and (pair not in seconds or pair not in metres):
                unreachable.append((i, j))
                continue
            durations[i, j] = seconds.get(pair, 0.0) + a.access_s + b.access_s
            distances[i, j] = metres.get(pair, 0.0) + a.access_m + b.access_m
    matrix = TravelMatrix(durations_s=np.rint(durations).astype(np.int64),
                          distances_m=np.rint(distances).astype(np.int64))
    return matrix, unreachable


def road_matrices(db: Session, *, points: Sequence[Point], modes: Collection[str]) -> TravelMatrices:
    """Seconds and metres between every pair of points for each mode, along the roads.
    Raises `OffRoadNetwork` for a point off the network, `InvalidInput` for a pair with no path."""
    snapped = snap_all(db, points=points, modes=modes)
    by_mode: dict[str, TravelMatrix] = {}
    for mode, mode_points in snapped.items():
        matrix, unreachable = _mode_matrix(db, points=points, snapped=mode_points, mode=mode)
        if unreachable:
            named = unreachable[:MAX_PAIRS_NAMED]
            raise InvalidInput(
                f"{len(unreachable)} trip(s) between the points have no path on the road network by {mode}.",
                errors=[{"field": f"points[{j}]", "message": f"cannot be reached from points[{i}] by {mode}"}
                        for i, j in named])
        by_mode[mode] = matrix
    # With several modes a point may join the graph at different roads: the farthest snap is reported.
    snapped_m = tuple(max(mode_points[i].snapped_m for mode_points in snapped.values())
                      for i in range(len(points))) if snapped else ()
    return TravelMatrices(by_mode=by_mode, source="roads", snapped_m=snapped_m)
