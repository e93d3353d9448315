"""`build_matrices`: the travel matrices a plan is solved on, from the road network when one is
loaded (pgRouting), else estimated; and `check_points`, the same snapping check made while the
request is still open, so an off-network point is refused at once rather than failing the job."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from routing.problem import Point, TravelMatrices
from routing.settings import RoutingSettings
from routing.travel.cache import cache_key, cached_matrices
from routing.travel.estimate import estimate_matrices
from routing.travel.graph import network_version
from routing.travel.network import road_matrices
from routing.travel.snap import snap_all


def build_matrices(db: Session, *, points: Sequence[Point], modes: Collection[str],
                   redis_url: str | None = None, settings: RoutingSettings | None = None) -> TravelMatrices:
    """Seconds and metres between every pair of `points` for each mode (indexed like the points).

    With a road network: along the roads (`source="roads"`); raises `OffRoadNetwork` for a point too
    far from every usable road and `InvalidInput` for a pair with no path. Without: the estimate
    (`source="estimate"`), never cached (it is cheaper than a round trip to Redis). With `redis_url`
    the road matrices are cached per network version, mode set and point list."""
    version = network_version(db)
    if version is None:
        return estimate_matrices(points, modes)
    if redis_url is None:
        return road_matrices(db, points=points, modes=modes)
    return cached_matrices(redis_url=redis_url, key=cache_key(version=version, modes=modes, points=points),
                           modes=modes, source="roads", settings=settings or RoutingSettings(),
                           compute=lambda: road_matrices(db, points=points, modes=modes))


def check_points(db: Session, *, points: Sequence[Point], modes: Collection[str]) -> str:
    """The source `build_matrices` will use ("roads" | "estimate"); with a network loaded, raises
    `OffRoadNetwork` naming every point too far from the roads its mode may use (one KNN statement
    per mode)."""
    if network_version(db) is None:
        return "estimate"
    snap_all(db, points=points, modes=modes)
    return "roads"
