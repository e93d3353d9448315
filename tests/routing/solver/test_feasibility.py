"""The independent check: a workable plan passes, and each hand-broken plan is caught by its rule."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from routing.problem import Break, Problem, Window
from routing.results import PlanResult, Reason, Unassigned
from routing.solver.feasibility import check
from routing.solver.schedule import schedule_route
from tests.routing.solver.grid import at, crew, job, problem, travel

HV = frozenset({"hv_live_work"})
CASE = problem([job("a", 1, service_min=120, window=(at(8), at(9)), skills=HV, demand=2),
                job("b", 2, service_min=120, demand=2), job("p", 3, service_min=60, pinned_to="user:1"),
                job("far", 50)],
               [crew("user:1", skills=HV, capacity=5, max_work_s=8 * 3600, lunch=(at(11, 30), at(13), 60))])
ROUTE = schedule_route(CASE, travel(CASE), crew_key="user:1", job_keys=["a", "b", "p"])
PLAN = PlanResult(routes=(ROUTE,), unassigned=(Unassigned("far", Reason.shift_too_short, "far"),), engine="pyvrp",
                  seed=1, travel_source="estimate")


def with_crew(**changes: Any) -> Problem:
    return replace(CASE, crews=(replace(CASE.crews[0], **changes),))


def with_job(key: str, **changes: Any) -> Problem:
    return replace(CASE, jobs=tuple(replace(j, **changes) if j.key == key else j for j in CASE.jobs))


def with_stop(no: int, **changes: Any) -> PlanResult:
    stops = list(ROUTE.stops)
    stops[no] = replace(stops[no], **changes)
    return with_route(stops=tuple(stops))


def with_route(**changes: Any) -> PlanResult:
    return replace(PLAN, routes=(replace(ROUTE, **changes),))


def test_the_plan_used_below_is_workable() -> None:
    assert ROUTE.lunch is not None and [s.job_key for s in ROUTE.stops] == ["a", "b", "p"]
    assert check(CASE, travel(CASE), PLAN) == []


b_stop = ROUTE.stops[1]
assert ROUTE.lunch is not None
TAKEN = ROUTE.lunch

BROKEN: list[tuple[str, Problem, PlanResult, str]] = [
    ("a job in a route and unassigned", CASE,
     replace(PLAN, unassigned=(*PLAN.unassigned, Unassigned("a", Reason.no_capacity, ""))), "duplicate"),
    ("a job forgotten", CASE, replace(PLAN, unassigned=()), "unaccounted"),
    ("a skill the crew lacks", with_crew(skills=frozenset()), PLAN, "skill"),
    ("someone else's promise", with_job("p", pinned_to="user:2"), PLAN, "pinned"),
    ("service after the window", with_job("a", window=Window(at(8), at(8, 5))), PLAN, "window"),
    ("service cut short", CASE, with_stop(1, departure=b_stop.departure - 60), "service"),
    ("arriving faster than travel allows", CASE,
     with_stop(1, arrival=b_stop.arrival - 60, start=b_stop.start - 60, departure=b_stop.departure - 60), "travel"),
    ("leaving before the shift", with_crew(shift_start=at(9)), PLAN, "shift_start"),
    ("back after the shift", with_crew(shift_end=at(14)), PLAN, "shift_end"),
    ("working too long", with_crew(max_work_s=3 * 3600), PLAN, "max_work"),
    ("overloaded", with_crew(capacity=3), PLAN, "capacity"),
    ("lunch outside its window", with_crew(lunch=Break(Window(at(13, 30), at(14)), 3600)), PLAN, "lunch"),
    ("lunch forgotten", CASE, with_route(lunch=None), "lunch"),
    ("totals that do not add up", CASE, with_route(travel_s=ROUTE.travel_s + 1), "totals"),
    ("a crew member not in the problem", CASE, with_route(crew_key="user:9"), "unknown_crew"),
    ("a job not in the problem", replace(CASE, jobs=CASE.jobs[1:]), PLAN, "unknown_job"),
]


@pytest.mark.parametrize(("case", "result", "rule"), [item[1:] for item in BROKEN], ids=[item[0] for item in BROKEN])
def test_a_broken_rule_is_found(case: Problem, result: PlanResult, rule: str) -> None:
    assert rule in {violation.rule for violation in check(case, travel(case), result)}


@pytest.mark.parametrize("lunch_start", [b_stop.arrival - b_stop.travel_s, b_stop.start + 60],
                         ids=["during travel", "during service"])
def test_lunch_overlapping_work_is_found(lunch_start: int) -> None:
    case = with_crew(lunch=Break(Window(at(8), at(13)), 3600))  # any start would do, but not while working
    result = with_route(lunch=replace(TAKEN, start=lunch_start, end=lunch_start + 3600))

    [violation] = check(case, travel(case), result)
    assert violation.rule == "lunch" and "overlaps" in violation.detail
