"""The PyVRP engine: identical crews shared out in a fixed way, the same plan for the same seed,
the benchmark's objective and capacities, and prizes that keep urgency first and plans workable."""

from __future__ import annotations

import pytest
import pyvrp

from routing.problem import Problem
from routing.solver.engine import PyVrpEngine, default_engine
from routing.solver.schedule import schedule_route
from routing.solver.urgency import urgency_prizes, workable
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


def test_each_level_of_urgency_is_worth_four_of_the_next_and_any_job_more_than_it_costs() -> None:
    prizes = urgency_prizes([j.priority for j in scattered(50, 2).jobs], 40_000)

    assert prizes == {5: 40_000, 4: 160_000, 3: 640_000, 2: 2_560_000, 1: 10_240_000}


def test_only_the_levels_present_count() -> None:
    prizes = urgency_prizes([1, 5, 5], 40_000)

    assert prizes == {5: 40_000, 1: 160_000}


def test_a_late_route_from_a_search_cut_short_is_made_workable_by_leaving_out_the_least_urgent_culprit() -> None:
    # Both at 08:10, 1 block either side of the depot: one must go. The least urgent job of all ("any",
    # no window) stays: leaving it out would not help.
    case = problem([job("urgent", 1, window=(at(8, 10), at(8, 10)), priority=1),
                    job("minor", -1, window=(at(8, 10), at(8, 10)), priority=4), job("any", 2, priority=5)],
                   [crew("user:1")])
    data, _ = PyVrpEngine()._model(case, travel(case))
    late = pyvrp.Solution(data, [pyvrp.Route(data, [0, 1, 2], 0)])
    assert not late.is_feasible()

    [(_, visits)] = workable(data, late, [j.priority for j in case.jobs])

    assert visits == [0, 2]


def test_hundreds_of_stops_at_every_priority_are_solved_within_their_shifts() -> None:
    # Lexicographic prizes made PyVRP prefer late plans to leaving jobs out; these must not.
    case = scattered(400, 4)

    assignment = default_engine().solve(case, travel(case), time_limit_s=1, seed=1)

    served = [key for keys in assignment.routes.values() for key in keys]
    assert 0 < len(served) < 400
    for crew_key, keys in assignment.routes.items():
        schedule_route(case, travel(case), crew_key=crew_key, job_keys=keys)  # raises if a window or shift breaks
