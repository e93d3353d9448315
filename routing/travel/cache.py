"""Travel matrices cached in Redis, keyed by the network version, the mode set and the point list
(rounded to 1e-6 degree, ~0.1 m). The value is the matrices as numpy bytes (`np.savez`, loaded
without pickle). A new road import has a new version, so old entries are never read again and
expire with their TTL.

The cache only saves time: when Redis is down or slow, planning computes the matrices and logs it."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Collection, Sequence

import numpy as np
import redis

from routing.problem import Point, TravelMatrices, TravelMatrix
from routing.settings import RoutingSettings

logger = logging.getLogger(__name__)

KEY_PREFIX = "gw:routing:travel"
COORDINATE_DECIMALS = 6
SNAPPED_KEY = "snapped_m"


def cache_key(*, version: int, modes: Collection[str], points: Sequence[Point]) -> str:
    rounded = ";".join(f"{p.lon:.{COORDINATE_DECIMALS}f},{p.lat:.{COORDINATE_DECIMALS}f}" for p in points)
    digest = hashlib.sha256(rounded.encode("ascii")).hexdigest()
    return f"{KEY_PREFIX}:v{version}:{','.join(sorted(set(modes)))}:{digest}"


def encode(matrices: TravelMatrices) -> bytes:
    arrays: dict[str, np.ndarray] = {SNAPPED_KEY: np.asarray(matrices.snapped_m, dtype=np.float64)}
    for mode, matrix in matrices.by_mode.items():
        arrays[f"{mode}.durations_s"] = matrix.durations_s
        arrays[f"{mode}.distances_m"] = matrix.distances_m
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy stubs: **kwds may be allow_pickle
    return buffer.getvalue()


def decode(payload: bytes, *, modes: Collection[str], source: str) -> TravelMatrices:
    with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
        by_mode = {mode: TravelMatrix(durations_s=arrays[f"{mode}.durations_s"].astype(np.int64),
                                      distances_m=arrays[f"{mode}.distances_m"].astype(np.int64))
                   for mode in sorted(set(modes))}
        snapped = tuple(float(v) for v in arrays[SNAPPED_KEY])
    return TravelMatrices(by_mode=by_mode, source=source, snapped_m=snapped)


def cached_matrices(*, redis_url: str, key: str, modes: Collection[str], source: str,
                    compute: Callable[[], TravelMatrices], settings: RoutingSettings) -> TravelMatrices:
    """The cached matrices for `key`, else `compute()` stored under it. Redis errors (down, slow,
    a damaged entry) are logged and planning goes on with the computed matrices."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=settings.travel_cache_timeout_s,
                                  socket_timeout=settings.travel_cache_timeout_s)
    try:
        try:
            payload = client.get(key)
            if isinstance(payload, bytes):
                return decode(payload, modes=modes, source=source)
        except (redis.RedisError, OSError, KeyError, ValueError) as exc:
            logger.warning("travel cache unavailable, computing the matrices: %s", type(exc).__name__)
        matrices = compute()
        try:
            client.set(key, encode(matrices), ex=settings.travel_cache_seconds)
        except redis.RedisError as exc:
            logger.warning("travel cache unavailable, matrices not stored: %s", type(exc).__name__)
        return matrices
    finally:
        client.close()
