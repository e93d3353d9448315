"""Jobs left out by priority. With a search that can start from a given solution, the engine
searches by stages of urgency, so a job never gives way to less urgent ones, however many."""

from __future__ import annotations

from collections.abc import Callable

import pyvrp
from pyvrp.stop import MaxRuntime

from routing.solver.engine import PyVrpEngine
from routing.solver.search import run_search
from routing.solver.urgency import warm_starts
from tests.routing.solver.grid import at, crew, job, problem, travel


def warm_search(data: pyvrp.ProblemData, *, time_limit_s: float, seed: int,
                on_progress: Callable[[float], None] | None = None,
                initial_solution: pyvrp.Solution | None = None) -> pyvrp.Solution:
    """PyVRP's search started from the previous stage's solution."""
    best = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=seed, initial_solution=initial_solution).best
    if on_progress is not None:
        on_progress(1.0)
    return best


# 90 minutes: the urgent job far west alone (40 + 10 + 40), or the five minor ones nearby (10 + 50 + 10).
FIVE_MINOR = problem([job("urgent", -4, priority=1)] + [job(f"minor{no}", 1, priority=4) for no in range(5)],
                     [crew("user:1", shift=(at(8), at(9, 30)))])


def test_by_stages_one_urgent_job_outweighs_any_number_of_less_urgent_ones() -> None:
    seen: list[float] = []

    assignment = PyVrpEngine(search=warm_search).solve(FIVE_MINOR, travel(FIVE_MINOR), time_limit_s=0.4, seed=1,
                                                       on_progress=seen.append)

    assert assignment.routes == {"user:1": ("urgent",)}
    assert seen == [0.5, 1.0]  # two levels, two stages


def one_search(data: pyvrp.ProblemData, *, time_limit_s: float, seed: int,
               on_progress: Callable[[float], None] | None = None) -> pyvrp.Solution:
    """A search that cannot be given a start: the engine runs it once, with prizes weighted by urgency."""
    return run_search(data, time_limit_s=time_limit_s, seed=seed, on_progress=on_progress)


def test_in_one_search_a_job_gives_way_to_more_than_four_less_urgent_ones() -> None:
    assignment = PyVrpEngine(search=one_search).solve(FIVE_MINOR, travel(FIVE_MINOR), time_limit_s=0.2, seed=1)

    assert warm_starts(warm_search) and not warm_starts(one_search)
    assert sorted(assignment.routes["user:1"]) == [f"minor{no}" for no in range(5)]
