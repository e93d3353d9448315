"""Splitting meter-reading stops into compact areas of balanced working time (pure, numpy + OR-Tools).

The method is capacitated k-means (Bradley, Bennett & Demiriz 2000, "Constrained k-means
clustering"; the `k-means-constrained` package does the same): k-means where the assignment step
is a minimum-cost flow (OR-Tools `SimpleMinCostFlow`) that gives each area exactly its target
number of stops, at least total squared distance to the areas' centres. Areas stay compact (the
k-means objective) and their sizes are set, not hoped for. The targets are what balances the
*working time*, not the count: each stop weighs its service time plus its share of the walk
(`travel_share_s`), an area far from its reader's start adds the walk there and back every day,
and a reader with a longer day gets a larger area. The targets are re-derived from the areas of the
previous iteration until the assignment stops changing; the best-balanced iteration is kept.

Measured on 5,000 SimBench customers (MV1.101, 10 readers, 4 days, foot, `./gw bench rounds`): the
split into reader areas and days takes ~2 s on a loaded 2-core machine; `routing.rounds` has the
figures against the naive split by reading order and against one search over the whole window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import linear_sum_assignment, min_cost_flow

from routing.problem import Point
from routing.travel.estimate import EARTH_RADIUS_M

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# A round's walk is estimated as its stops' minimum spanning tree plus the way from the start to
# the round's centre and back: over the 16 rounds of two generated 400-stop districts the sequenced
# walk was 0.91-1.33 times that (median 1.0; the high ones are rounds over two villages, whose gap a
# round trip crosses twice and a tree once). A single stop's share of the walk (what leaving it out
# saves) is its nearest-neighbour distance times 0.7124 / 0.5: for random points a shortest tour is
# 0.7124 * sqrt(n * A) long (Beardwood-Halton-Hammersley), the mean nearest-neighbour distance
# 0.5 * sqrt(A / n).
TOUR_PER_SPANNING_TREE = 1.0
TOUR_PER_NEAREST_NEIGHBOUR = 0.7124 / 0.5
MAX_ITERATIONS = 15
# How far an area's size may stray from its target to follow the lie of the land (see `_assign`).
SIZE_TOLERANCE = 0.05
_CHUNK = 512


def projected(points: list[Point]) -> FloatArray:
    """Metres east and north of the points' mean (equirectangular: exact enough within a district)."""
    lon = np.array([p.lon for p in points], dtype=np.float64)
    lat = np.array([p.lat for p in points], dtype=np.float64)
    lat0, lon0 = float(lat.mean()), float(lon.mean())
    x = np.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    y = np.radians(lat - lat0) * EARTH_RADIUS_M
    return np.column_stack([x, y])


def nearest_neighbour_m(xy: FloatArray) -> FloatArray:
    """Each point's straight-line distance to the nearest other point (0 for a point alone: no walk)."""
    n = len(xy)
    if n < 2:
        return np.zeros(n)
    x, y = xy[:, 0], xy[:, 1]
    out = np.empty(n)
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        d2 = (x[lo:hi, None] - x[None, :]) ** 2 + (y[lo:hi, None] - y[None, :]) ** 2
        d2[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        out[lo:hi] = np.sqrt(d2.min(axis=1))
    return out


@dataclass(frozen=True)
class Demand:
    """What the split balances: each stop's service seconds, its estimated seconds with its share of
    the walk (what leaving it out saves), and the walking pace (seconds per straight-line metre)."""

    service_s: FloatArray
    stop_s: FloatArray
    s_per_m: float

    def subset(self, members: IntArray) -> Demand:
        return Demand(service_s=self.service_s[members], stop_s=self.stop_s[members], s_per_m=self.s_per_m)


@dataclass(frozen=True)
class Areas:
    """labels[i]: the area of stop i, which is the area of `owners[label]` (a reader, or a day);
    estimated_s: each owner's estimated working time."""

    labels: IntArray
    estimated_s: FloatArray


def split(xy: FloatArray, demand: Demand, *, anchors: FloatArray, capacity_s: FloatArray, trips: int,
          seed: int) -> Areas:
    """Split the stops among `len(anchors)` owners (readers, or one reader's days): compact areas whose
    estimated working time is proportional to each owner's `capacity_s`. The walk from an owner's
    anchor (their start) to the area's centre and back counts `trips` times. Label o is owner o."""
    k, n = len(anchors), len(xy)
    if k == 1 or n == 0:
        labels = np.zeros(n, dtype=np.int64)
        return Areas(labels, _estimate(xy, demand, labels, anchors, trips))
    rng = np.random.default_rng(seed)
    centres = _plus_plus(xy, k, rng)
    labels = np.full(n, -1, dtype=np.int64)
    best: tuple[float, IntArray] | None = None
    for _ in range(MAX_ITERATIONS):
        order = np.argsort(_match(centres, anchors))  # order[o]: the area owner o gets
        centres = centres[order]
        if (labels >= 0).all():
            renumbered = np.empty(k, dtype=np.int64)
            renumbered[order] = np.arange(k)
            labels = renumbered[labels]
        sizes = _target_sizes(xy, demand, labels, centres, anchors, capacity_s, trips)
        new_labels = _assign(xy, centres, sizes)
        # The iterations are compared on the quick additive estimate; the kept one gets the tree's.
        spread = _spread(_estimate(xy, demand, new_labels, anchors, trips, walk_by_tree=False), capacity_s)
        if best is None or spread < best[0]:
            best = (spread, new_labels)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centres = np.array([xy[labels == o].mean(axis=0) if (labels == o).any() else centres[o]
                            for o in range(k)])
    assert best is not None
    return Areas(best[1], _estimate(xy, demand, best[1], anchors, trips))


def _spread(estimated_s: FloatArray, capacity_s: FloatArray) -> float:
    load = estimated_s / capacity_s
    return float(load.max() - load.min())


def _plus_plus(xy: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007), from the seeded generator."""
    centres = [xy[rng.integers(len(xy))]]
    for _ in range(1, k):
        d2 = np.min([((xy - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = d2.sum()
        pick = rng.choice(len(xy), p=d2 / total) if total > 0 else rng.integers(len(xy))
        centres.append(xy[pick])
    return np.array(centres)


def _match(centres: FloatArray, anchors: FloatArray) -> IntArray:
    """owner_of_area[a]: the owner whose anchor is matched to area a, at least total distance (when
    all anchors coincide any matching is as good, and the solver's is deterministic)."""
    k = len(centres)
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    cost = np.rint(np.sqrt(((centres[:, None, :] - anchors[None, :, :]) ** 2).sum(axis=2))).astype(np.int64)
    solver.add_arcs_with_cost(np.repeat(np.arange(k), k), np.tile(np.arange(k), k), cost.ravel())
    if solver.solve() != solver.OPTIMAL:
        return np.arange(k, dtype=np.int64)
    return np.array([solver.right_mate(a) for a in range(k)], dtype=np.int64)


def _target_sizes(xy: FloatArray, demand: Demand, labels: IntArray, centres: FloatArray, anchors: FloatArray,
                  capacity_s: FloatArray, trips: int) -> IntArray:
    """Stops per area so that (stops x mean seconds per stop + the walks from the anchor) is the same
    share of every owner's capacity: n_o = (theta * cap_o - leg_o) / w_o with sum n_o = n."""
    n, k = len(xy), len(centres)
    mean_w = np.full(k, float(demand.stop_s.mean()))
    if (labels >= 0).all():
        for o in range(k):
            if (labels == o).any():
                mean_w[o] = float(demand.stop_s[labels == o].mean())
    legs = 2 * trips * demand.s_per_m * np.sqrt(((centres - anchors) ** 2).sum(axis=1))
    theta = (n + (legs / mean_w).sum()) / (capacity_s / mean_w).sum()
    raw = np.maximum((theta * capacity_s - legs) / mean_w, 0.0)
    raw = raw * n / raw.sum() if raw.sum() > 0 else np.full(k, n / k)
    sizes = np.floor(raw).astype(np.int64)
    for o in np.argsort(-(raw - sizes), kind="stable")[: n - int(sizes.sum())]:  # largest remainders
        sizes[o] += 1
    return sizes


def _assign(xy: FloatArray, centres: FloatArray, sizes: IntArray) -> IntArray:
    """Each stop to an area, area o taking sizes[o] stops give or take `SIZE_TOLERANCE`, at least total
    squared distance. The slack lets a boundary follow the gap between two villages rather than
    send one meter across it to make a number exact: the first `low` stops of an area earn a bonus
    larger than any difference of distances, the next ones up to `high` none."""
    n, k = len(xy), len(centres)
    d2 = np.rint(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)).astype(np.int64)
    low = np.floor(sizes * (1 - SIZE_TOLERANCE)).astype(np.int64)
    high = np.maximum(np.ceil(sizes * (1 + SIZE_TOLERANCE)).astype(np.int64), low)
    bonus = -(k + 1) * int(d2.max(initial=0)) - 1
    stop_nodes, area_nodes, sink = np.arange(n), n + np.arange(k), n + k
    tails = np.concatenate([np.repeat(stop_nodes, k), area_nodes, area_nodes])
    heads = np.concatenate([np.tile(area_nodes, n), np.full(2 * k, sink)])
    capacities = np.concatenate([np.ones(n * k, dtype=np.int64), low, high - low])
    costs = np.concatenate([d2.ravel(), np.full(k, bonus, dtype=np.int64), np.zeros(k, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    flow.set_nodes_supplies(np.arange(n + k + 1), np.concatenate([np.ones(n, dtype=np.int64),
                                                                   np.zeros(k, dtype=np.int64), [-n]]))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"balanced assignment failed: min-cost flow status {status}")
    used = flow.flows(np.arange(n * k)).reshape(n, k)
    return np.argmax(used, axis=1).astype(np.int64)


def _estimate(xy: FloatArray, demand: Demand, labels: IntArray, anchors: FloatArray, trips: int, *,
              walk_by_tree: bool = True) -> FloatArray:
    """Each owner's estimated seconds: its stops' service, the walk through its area (its spanning
    tree; or, quicker, the stops' nearest-neighbour shares), and `trips` walks from its anchor to the
    area's centre and back."""
    out = np.zeros(len(anchors))
    for o in range(len(anchors)):
        members = labels == o
        if members.any():
            if walk_by_tree:
                out[o] = area_estimate_s(xy, demand, np.flatnonzero(members), anchor=anchors[o], trips=trips)
            else:
                leg = 2 * trips * float(np.hypot(*(xy[members].mean(axis=0) - anchors[o])))
                out[o] = float(demand.stop_s[members].sum()) + demand.s_per_m * leg
    return out


def area_estimate_s(xy: FloatArray, demand: Demand, members: IntArray, *, anchor: FloatArray, trips: int) -> float:
    """One area's estimated seconds: service, the walk along its spanning tree, and `trips` walks from
    the anchor to its centre and back."""
    if len(members) == 0:
        return 0.0
    leg = 2 * trips * float(np.hypot(*(xy[members].mean(axis=0) - anchor)))
    walk = TOUR_PER_SPANNING_TREE * spanning_tree_m(xy[members])
    return float(demand.service_s[members].sum()) + demand.s_per_m * (walk + leg)


def spanning_tree_m(xy: FloatArray) -> float:
    """Length of a minimum spanning tree of the points (Prim, O(n^2) in numpy: ~3 ms for 500 points)."""
    n = len(xy)
    if n < 2:
        return 0.0
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    nearest = np.hypot(x[1:] - x[0], y[1:] - y[0])
    x, y = x[1:], y[1:]
    total = 0.0
    while len(nearest):
        nxt = int(np.argmin(nearest))
        total += float(nearest[nxt])
        keep = np.ones(len(nearest), dtype=bool)
        keep[nxt] = False
        px, py = x[nxt], y[nxt]
        x, y, nearest = x[keep], y[keep], nearest[keep]
        np.minimum(nearest, np.hypot(x - px, y - py), out=nearest)
    return total
