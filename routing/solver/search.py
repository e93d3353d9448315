"""The search every PyVRP-backed plan runs: one place to tune it for the quality the benchmark
measures (`./gw bench routing`, the 56 Solomon VRPTW instances at <= 2 s each).

Deterministic: the product promises that the same input and seed give the same plan, so the search
stops on an ITERATION budget, not on the clock. The budget is the time limit times the iterations
per second this machine does (calibrated below), so the search ends near the limit; a wall-clock cap
at the limit itself is only a safety net for an overloaded machine (then, and only then, the result
may depend on timing).

What was measured (PyVRP 0.14.1, 2 cores shared with other jobs; quality at a fixed iteration budget
does not depend on the load, so parameters were compared at equal iterations, then timed):
- PyVRP's defaults are made for long runs (history 300 for late acceptance, 150,000 iterations
  before a restart): in ~3,000 iterations the late-acceptance history barely turns over.
  See SEARCH_PARAMS for the values chosen and their figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyvrp
from pyvrp import SolveParams
from pyvrp.IteratedLocalSearch import IteratedLocalSearchParams

# Late-acceptance history for short runs (see the module doc).
SEARCH_PARAMS = SolveParams(ils=IteratedLocalSearchParams(history_length=100))
# Iterations per CPU second of SEARCH_PARAMS on this machine by number of clients (Solomon R101,
# RC201 and C104 cut to their first n customers, 1,500 iterations, the lowest of the three, rounded
# down): the work per iteration grows with the size but not in proportion (the perturbation touches
# at most 25 clients). Interpolated between; beyond the last, taken as inversely proportional.
ITERATIONS_PER_S_BY_CLIENTS: tuple[tuple[int, float], ...] = ((10, 12_000.0), (25, 3_700.0), (50, 1_850.0),
                                                              (100, 1_450.0))
# The budget aims at this share of the time limit, so that the wall cap is rarely what stops the search.
TARGET_SHARE_OF_LIMIT = 0.9
# How often the progress callback is told, in iterations.
PROGRESS_EVERY = 100


class _Budget:
    """PyVRP stopping criterion: the iteration budget, the wall cap, and progress reports."""

    def __init__(self, *, iterations: int, wall_cap_s: float, on_progress: Callable[[float], None] | None) -> None:
        self._iterations = iterations
        self._done = 0
        self._deadline = time.perf_counter() + wall_cap_s
        self._on_progress = on_progress

    def __call__(self, best_cost: float) -> bool:
        self._done += 1
        if self._on_progress is not None and self._done % PROGRESS_EVERY == 0:
            self._on_progress(min(1.0, self._done / self._iterations))
        return self._done > self._iterations or time.perf_counter() > self._deadline


def iterations_per_s(clients: int) -> float:
    """This machine's search speed for a problem of `clients` clients (ITERATIONS_PER_S_BY_CLIENTS)."""
    sizes = [size for size, _ in ITERATIONS_PER_S_BY_CLIENTS]
    rates = [rate for _, rate in ITERATIONS_PER_S_BY_CLIENTS]
    if clients > sizes[-1]:
        return rates[-1] * sizes[-1] / clients
    return float(np.interp(clients, sizes, rates))


def iteration_budget(data: pyvrp.ProblemData, *, time_limit_s: float) -> int:
    """The iterations that take about TARGET_SHARE_OF_LIMIT of `time_limit_s` on this machine."""
    return max(1, int(time_limit_s * TARGET_SHARE_OF_LIMIT * iterations_per_s(data.num_clients)))


def run_search(data: pyvrp.ProblemData, *, time_limit_s: float, seed: int,
               on_progress: Callable[[float], None] | None = None, max_iterations: int | None = None
               ) -> pyvrp.Solution:
    """The best solution found in the iteration budget for `time_limit_s`, for `seed`: the same data
    and seed give the same solution unless the machine is so loaded that the wall cap cuts in.
    `max_iterations` fixes the budget instead (a plan that does not depend on the machine's speed)."""
    budget = max_iterations if max_iterations is not None else iteration_budget(data, time_limit_s=time_limit_s)
    stop = _Budget(iterations=budget, wall_cap_s=time_limit_s, on_progress=on_progress)
    result = pyvrp.solve(data, stop=stop, seed=seed, params=SEARCH_PARAMS, collect_stats=False, display=False)
    if on_progress is not None:
        on_progress(1.0)
    return result.best
