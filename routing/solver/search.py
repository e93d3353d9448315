"""The search every PyVRP-backed plan runs: one place to tune it for the quality the benchmark
measures (`./gw bench routing`: the 56 Solomon VRPTW instances, <= 2 s each, beside OR-Tools).

Deterministic: the product promises that the same input and seed give the same plan, so the search
stops on an ITERATION budget, not on the clock. The budget is the time limit times the iterations per
second this machine does for a problem of that size (ITERATIONS_PER_S_BY_CLIENTS), aiming at 90% of
the limit; a wall-clock cap at the limit itself is only a safety net for an overloaded machine (then,
and only then, the plan may depend on timing: on 2 cores shared by several jobs at load 4-8 it does).

What was measured (PyVRP 0.14.1, all 56 instances, seed 1; quality at a fixed iteration budget does
not depend on the load, so settings were compared at equal iterations, mean gap to the distance-only
best known, with R109 / without):
- PyVRP's defaults are made for long runs (late-acceptance history 300): 0.70 / 0.62% at 2,400
  iterations, 0.55 / 0.47% at 3,000.
- History 100: 0.51 / 0.43% at 2,400, 0.46 / 0.38% at 3,000. History 50 (0.57% at 3,000) and 150
  (0.59%) are worse: about 1/30 of the budget is best, so the history is budget / 30, from 100 up to
  PyVRP's 300 for long runs (not measured beyond 3,000 iterations).
- Neighbourhood of 40 clients with waiting weighted 0.5 (each alone -0.03 / -0.04 at equal CPU time),
  at the budget of a 1.9 s run (2,479 iterations), two seeds: 0.48 / 0.40% and 0.44 / 0.36% against
  0.50 / 0.43% and 0.57 / 0.49% with PyVRP's neighbourhood: kept. The seed alone moves the mean by up
  to 0.06.
- Not kept (equal or worse within the noise of one seed, about +-0.05 on the mean): restarts after 500
  iterations without improvement, no exhaustive search on a new best, lower initial penalties
  (max_penalty 100 or 1,000, updates every 100), 30 or 70 neighbours (70: +0.16 at equal CPU time),
  at most 10, 15 or 40 perturbations or at least 5 (worse per second), fewer operators (3 or
  5 of the 6; up to 1.7x the iterations for the same CPU time, no better), two seeds in parallel (the
  lead: worse on 2 loaded cores).
- Speed: 1,300-2,400 iterations per CPU second at 100 clients depending on the other jobs' load, so
  what a 1.9 s limit buys varies by 2x on this machine; the remaining gap is mostly R1/RC1 instances
  that need more iterations.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyvrp
from pyvrp import SolveParams
from pyvrp.IteratedLocalSearch import IteratedLocalSearchParams
from pyvrp.search import NeighbourhoodParams

# Late-acceptance history: budget / HISTORY_SHARE, within [MIN_HISTORY, MAX_HISTORY] (module doc).
HISTORY_SHARE = 30
MIN_HISTORY, MAX_HISTORY = 100, 300
# Granular neighbourhood: 40 nearest clients (PyVRP: 50), waiting time weighted 0.5 (PyVRP: 0.2) in
# what "near" means (module doc).
NEIGHBOURHOOD = NeighbourhoodParams(weight_wait_time=0.5, num_neighbours=40)
# Iterations per CPU second of the search (history 100) on this machine by number of clients (Solomon R101,
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


def search_params(budget: int) -> SolveParams:
    """PyVRP's iterated local search with the late-acceptance history sized to the budget."""
    history = min(MAX_HISTORY, max(MIN_HISTORY, budget // HISTORY_SHARE))
    return SolveParams(ils=IteratedLocalSearchParams(history_length=history), neighbourhood=NEIGHBOURHOOD)


def run_search(data: pyvrp.ProblemData, *, time_limit_s: float, seed: int,
               on_progress: Callable[[float], None] | None = None, max_iterations: int | None = None,
               initial_solution: pyvrp.Solution | None = None) -> pyvrp.Solution:
    """The best solution found in the iteration budget for `time_limit_s`, for `seed`: the same data
    and seed give the same solution unless the machine is so loaded that the wall cap cuts in.
    `max_iterations` fixes the budget instead (a plan that does not depend on the machine's speed).
    `initial_solution`: where the search starts (a warm start, e.g. the previous urgency stage's
    routes, `routing.solver.urgency`); otherwise from a random solution improved by local search."""
    budget = max_iterations if max_iterations is not None else iteration_budget(data, time_limit_s=time_limit_s)
    stop = _Budget(iterations=budget, wall_cap_s=time_limit_s, on_progress=on_progress)
    result = pyvrp.solve(data, stop=stop, seed=seed, params=search_params(budget), collect_stats=False,
                         display=False, initial_solution=initial_solution)
    if on_progress is not None:
        on_progress(1.0)
    return result.best
