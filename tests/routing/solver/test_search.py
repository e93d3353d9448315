"""The search behind every PyVRP plan: the same data and seed give the same plan, and what it
returns for a Solomon instance holds up under an independent check in floating point."""

from __future__ import annotations

from bench import solomon
from routing.solver.search import run_search


def test_the_same_data_and_seed_give_the_same_routes() -> None:
    data = solomon.problem_data(solomon.load("RC105"))

    first = run_search(data, time_limit_s=60, seed=7, max_iterations=300)
    second = run_search(data, time_limit_s=60, seed=7, max_iterations=300)

    assert solomon.solution_routes(first) == solomon.solution_routes(second)


def test_a_solomon_instance_solved_briefly_is_feasible_and_near_the_best_known() -> None:
    instance = solomon.load("R101")
    progress: list[float] = []

    # A fixed budget (about a third of a benchmark run's) keeps the outcome independent of the machine's load.
    solution = run_search(solomon.problem_data(instance), time_limit_s=60, seed=1, max_iterations=800,
                          on_progress=progress.append)

    routes = solomon.solution_routes(solution)
    assert solomon.violations(instance, routes) == []
    assert solomon.gap_pct(solomon.cost(instance, routes), solomon.best_known("R101")) < 1.5
    assert progress == sorted(progress) and progress[-1] == 1.0
