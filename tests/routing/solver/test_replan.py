"""Re-planning at 10:00 around an urgent job: it goes to whoever can reach it soonest, unless that
costs a customer their appointment; the rest of the day is re-optimised around it."""

from __future__ import annotations

import pytest

from routing.results import PlanResult
from routing.solver.replan import UrgentJobUnplaceable, insert_urgent
from tests.routing.solver.grid import Point, at, crew, job, problem, travel

NOW = (at(10), at(17))
HV = frozenset({"hv_live_work"})


def route_of(result: PlanResult, crew_key: str) -> list[str]:
    return [stop.job_key for route in result.routes if route.crew_key == crew_key for stop in route.stops]


def test_the_urgent_job_goes_to_the_crew_member_who_can_be_there_first() -> None:
    case = problem([job("fault", 2, priority=1), job("routine", 7), job("visit", 5, window=(at(11), at(11, 30)))],
                   [crew("user:1", shift=NOW), crew("user:2", start=Point(6, 0), shift=NOW)])

    result, chosen = insert_urgent(case, travel(case), urgent_key="fault", time_limit_s=0.2, seed=1)

    assert chosen == "user:1"
    assert route_of(result, "user:1")[0] == "fault"
    assert [stop.arrival for route in result.routes for stop in route.stops if stop.job_key == "fault"] == [at(10, 20)]
    assert {"routine", "visit"} <= {stop.job_key for route in result.routes for stop in route.stops}


def test_a_nearer_crew_member_who_would_miss_a_promised_appointment_is_passed_over() -> None:
    # user:1 (at 0) is 20 min from the fault, but has promised a customer 3 blocks the other way at 10:30-10:40:
    # fault first, they would arrive there at 11:20. user:2 (at 6) is 40 min away and free.
    case = problem([job("fault", 2, priority=1), job("promise", -3, window=(at(10, 30), at(10, 40)), pinned_to="user:1")],
                   [crew("user:1", shift=NOW), crew("user:2", start=Point(6, 0), shift=NOW)])

    result, chosen = insert_urgent(case, travel(case), urgent_key="fault", time_limit_s=0.2, seed=1)

    assert chosen == "user:2"
    assert route_of(result, "user:1") == ["promise"]
    assert route_of(result, "user:2") == ["fault"]
    assert result.unassigned == ()


def test_only_crew_members_allowed_to_do_the_urgent_job_are_considered() -> None:
    case = problem([job("live fault", 1, priority=1, skills=HV)],
                   [crew("user:1", shift=NOW), crew("user:2", start=Point(5, 0), shift=NOW, skills=HV)])

    _, chosen = insert_urgent(case, travel(case), urgent_key="live fault", time_limit_s=0.2, seed=1)

    assert chosen == "user:2"


def test_an_urgent_job_no_one_may_do_is_refused_with_the_reason() -> None:
    case = problem([job("live fault", 1, priority=1, skills=HV)], [crew("user:1", shift=NOW)])

    with pytest.raises(UrgentJobUnplaceable) as refused:
        insert_urgent(case, travel(case), urgent_key="live fault", time_limit_s=0.2, seed=1)

    assert "hv_live_work" in refused.value.detail


def test_an_urgent_job_that_would_cost_every_candidate_an_appointment_is_refused_naming_it() -> None:
    case = problem([job("fault", 2, priority=1), job("promise", -3, window=(at(10, 30), at(10, 40)), pinned_to="user:1")],
                   [crew("user:1", shift=NOW)])

    with pytest.raises(UrgentJobUnplaceable) as refused:
        insert_urgent(case, travel(case), urgent_key="fault", time_limit_s=0.2, seed=1)

    assert "user:1 (there at 10:20) would miss promise" in refused.value.detail
