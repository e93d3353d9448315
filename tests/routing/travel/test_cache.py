"""Road matrices are kept in Redis per network version, modes and points; the cache only saves
time: with Redis down, planning still gets its matrices."""

from __future__ import annotations

import numpy as np
import redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.settings import Settings
from routing.problem import TravelMatrices
from routing.travel import build_matrices
from routing.travel.cache import KEY_PREFIX, cache_key
from tests.routing.road_grid import node_point

POINTS = [node_point(0, 0), node_point(6, 6), node_point(3, 2)]
CLOSED_PORT_URL = "redis://127.0.0.1:9/0"


def _same(a: TravelMatrices, b: TravelMatrices) -> None:
    assert a.source == b.source and a.snapped_m == b.snapped_m
    for mode in a.by_mode:
        assert np.array_equal(a.for_mode(mode).durations_s, b.for_mode(mode).durations_s)
        assert np.array_equal(a.for_mode(mode).distances_m, b.for_mode(mode).distances_m)


def test_the_same_points_on_the_same_network_are_served_from_the_cache(
        grid: Session, settings: Settings, redis_client: redis.Redis) -> None:
    url = settings.redis.url.get_secret_value()
    for key in redis_client.scan_iter(f"{KEY_PREFIX}:*"):
        redis_client.delete(key)

    first = build_matrices(grid, points=POINTS, modes=["car", "foot"], redis_url=url)
    # The roads are gone but the network version is the same: only the cache can answer now.
    grid.execute(text("DELETE FROM roads"))
    again = build_matrices(grid, points=POINTS, modes=["foot", "car"], redis_url=url)

    _same(first, again)
    assert redis_client.ttl(cache_key(version=1, modes=["car", "foot"], points=POINTS)) > 0
    assert cache_key(version=2, modes=["car", "foot"], points=POINTS) != cache_key(
        version=1, modes=["car", "foot"], points=POINTS)


def test_planning_gets_its_matrices_when_redis_is_down(grid: Session) -> None:
    uncached = build_matrices(grid, points=POINTS, modes=["car"])

    with_redis_down = build_matrices(grid, points=POINTS, modes=["car"], redis_url=CLOSED_PORT_URL)

    _same(uncached, with_redis_down)
