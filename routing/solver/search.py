"""The search every PyVRP-backed plan runs: one place to tune it (parameters, restarts) for the
quality the benchmark measures (`./gw bench routing`)."""

from __future__ import annotations

from collections.abc import Callable

import pyvrp
from pyvrp.stop import MaxRuntime


def run_search(data: pyvrp.ProblemData, *, time_limit_s: float, seed: int,
               on_progress: Callable[[float], None] | None = None) -> pyvrp.Solution:
    """The best solution found within `time_limit_s` (wall) for `seed`; the same data and seed give
    the same solution when the search is not cut short by time."""
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    if on_progress is not None:
        on_progress(1.0)
    return result.best
