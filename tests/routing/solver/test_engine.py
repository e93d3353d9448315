"""The PyVRP engine: identical crews shared out in a fixed way, the same plan for the same seed,
the benchmark's objective and capacities, and prizes that keep urgency first without overflowing."""

from __future__ import annotations

import pytest

from routing.problem import LEAST_URGENT, MOST_URGENT, Problem
from routing.solver.engine import PyVrpEngine, _prizes, default_engine
from tests.routing.solver.grid import Point, at, crew, job, problem, travel


def test_identical_crews_each_get_a_route_handed_out_in_a_fixed_order() -> None:
    # Both jobs at 08:50 at opposite ends: two people needed, from the same depot with the same day.
    case = problem([job("east", 5, window=(at(8, 50), at(8, 50))), job("west", -5, window=(at(8, 50), at(8, 50)))],
                   [crew("user:1"), crew("user:2")])

    assignment = default_engine().solve(case, travel(case), time_limit_s=0.2, seed=1)

    assert assignment.routes == {"user:1": ("east",), "user:2": ("west",)}
    assert assignment.unassigned == ()


def scattered(jobs: int, crews: int) -> Problem:
    """Jobs spread over a 10 x 10 grid by a fixed rule, some with windows, three depots."""
    return problem([job(f"j{no}", (no * 7) % 11 - 5, (no * 3) % 9 - 4, service_min=5 + no % 4 * 5,
                        window=(at(9 + no % 3), at(11 + no % 3)) if no % 4 == 0 else None,
                        priority=1 + no % 5) for no in range(jobs)],
                   [crew(f"user:{no}", start=Point(no * 2 - 2, 0)) for no in range(crews)])


def test_the_same_problem_and_seed_give_the_same_assignment() -> None:
    case = scattered(15, 3)

    first = default_engine().solve(case, travel(case), time_limit_s=0.3, seed=7)
    second = default_engine().solve(case, travel(case), time_limit_s=0.3, seed=7)

    assert first == second
    assert sorted(key for keys in first.routes.values() for key in keys) == sorted(j.key for j in case.jobs)


def test_the_distance_objective_with_capacities_serves_each_load_within_capacity() -> None:
    # Two vans of 10 units, four customers of 5: two each, nearest pairs together (Solomon-style).
    case = problem([job(key, x, demand=5) for key, x in (("e1", 1), ("e2", 2), ("w1", -1), ("w2", -2))],
                   [crew("van:1", capacity=10), crew("van:2", capacity=10)])

    assignment = PyVrpEngine(objective="distance").solve(case, travel(case), time_limit_s=0.2, seed=1)

    assert sorted(sorted(keys) for keys in assignment.routes.values()) == [["e1", "e2"], ["w1", "w2"]]


def test_an_unknown_objective_is_refused() -> None:
    with pytest.raises(ValueError, match="objective"):
        PyVrpEngine(objective="fastest")


def test_a_problem_without_jobs_or_crews_needs_no_search() -> None:
    case = problem([job("a", 1)], [])

    assignment = default_engine().solve(case, travel(case), time_limit_s=5, seed=1)

    assert (assignment.routes, assignment.unassigned) == ({}, ("a",))


def test_a_prize_outweighs_every_less_urgent_job_and_the_whole_cost() -> None:
    case = scattered(50, 2)
    cost_bound = 2 * 9 * 3600

    prizes = _prizes(case, cost_bound)

    for priority in range(MOST_URGENT, LEAST_URGENT):
        less_urgent = sum(prizes[j.priority] for j in case.jobs if j.priority > priority)
        assert prizes[priority] > less_urgent + cost_bound


def test_prizes_stay_far_from_overflow_on_thousands_of_jobs() -> None:
    case = scattered(5000, 1)

    prizes = _prizes(case, 10 * 9 * 3600)

    assert sum(prizes[j.priority] for j in case.jobs) < 2**61
    assert [prizes[p] for p in range(MOST_URGENT, LEAST_URGENT + 1)] == sorted(prizes.values(), reverse=True)
