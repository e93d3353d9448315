"""A day's plan, on hand-solved cases (10 min and 1 km per block, 10 min per job unless said): the
order, who does what, what is left out and why. Every plan returned has passed the independent check."""

from __future__ import annotations

from routing.results import PlanResult, Reason
from routing.solver.planner import solve_plan, workable_route
from tests.routing.solver.grid import Point, at, crew, job, problem, travel

HV = frozenset({"hv_live_work"})
LUNCH = (at(11, 30), at(13), 60)


def plan(jobs: list, crews: list) -> PlanResult:
    case = problem(jobs, crews)
    return solve_plan(case, travel(case), time_limit_s=0.2, seed=1)


def route_of(result: PlanResult, crew_key: str) -> list[str]:
    return [stop.job_key for route in result.routes if route.crew_key == crew_key for stop in route.stops]


def reasons(result: PlanResult) -> dict[str, Reason]:
    return {item.job_key: item.reason for item in result.unassigned}


def test_jobs_along_the_way_are_visited_in_order_with_exact_times() -> None:
    result = plan([job("c", 3), job("a", 1), job("d", 4), job("b", 2)], [crew("user:1", end=Point(5, 0))])

    [route] = result.routes
    assert [(s.job_key, s.arrival, s.departure) for s in route.stops] == [
        ("a", at(8, 10), at(8, 20)), ("b", at(8, 30), at(8, 40)), ("c", at(8, 50), at(9)), ("d", at(9, 10), at(9, 20))]
    assert (route.leave_start, route.return_end, route.travel_m) == (at(8), at(9, 30), 5000)
    assert result.unassigned == ()
    assert (result.engine, result.seed, result.travel_source) == ("pyvrp", 1, "estimate")


def test_appointments_decide_the_order() -> None:
    # Nearest first would be near, far; the appointments make it far first.
    result = plan([job("near", 1, window=(at(9), at(9, 10))), job("far", 2, window=(at(8, 20), at(8, 30)))],
                  [crew("user:1")])

    assert route_of(result, "user:1") == ["far", "near"]
    assert [stop.start for stop in result.routes[0].stops] == [at(8, 30), at(9)]


def test_a_job_needing_a_skill_goes_to_the_crew_member_who_holds_it() -> None:
    # The live-line job is next to user:1's depot, but only user:2 may do it.
    result = plan([job("live", 1, skills=HV), job("plain", 9)],
                  [crew("user:1"), crew("user:2", start=Point(10, 0), skills=HV)])

    assert "live" in route_of(result, "user:2")
    assert result.unassigned == ()


def test_a_job_nobody_is_qualified_for_is_left_out_as_no_skill() -> None:
    result = plan([job("live", 1, skills=HV | {"climbing"})], [crew("user:1", skills=HV)])

    [item] = result.unassigned
    assert (item.job_key, item.reason) == ("live", Reason.no_skill)
    assert "climbing" in item.detail


def test_a_job_promised_by_someone_stays_with_them() -> None:
    result = plan([job("promised", 1, pinned_to="user:2"), job("other", 9)],
                  [crew("user:1"), crew("user:2", start=Point(10, 0))])

    assert "promised" in route_of(result, "user:2")


def test_a_job_promised_by_someone_absent_is_left_out_naming_them() -> None:
    result = plan([job("promised", 1, pinned_to="user:7")], [crew("user:1")])

    [item] = result.unassigned
    assert item.reason == Reason.pinned_crew_absent
    assert "user:7" in item.detail


def test_lunch_is_planned_inside_its_window_and_a_job_after_it_still_fits() -> None:
    # Back by 14:30 and a job at 13:30-14:00: only possible with lunch before it, which the plan does.
    result = plan([job("afternoon", 1, service_min=30, window=(at(13, 30), at(13, 40)))],
                  [crew("user:1", shift=(at(8), at(14, 30)), lunch=LUNCH)])

    [route] = result.routes
    assert route_of(result, "user:1") == ["afternoon"]
    assert route.lunch is not None and at(11, 30) <= route.lunch.start <= at(13)
    assert route.lunch.end <= route.stops[0].start == at(13, 30)


def test_the_maximum_working_time_limits_the_day() -> None:
    # Shift 08:00-17:00 but at most 2 hours of work: one of the two trips (70 min each) fits.
    result = plan([job("east", 3, priority=2), job("west", -3, priority=3)], [crew("user:1", max_work_s=7200)])

    assert route_of(result, "user:1") == ["east"]
    assert result.routes[0].work_s == 70 * 60
    assert reasons(result) == {"west": Reason.no_capacity}


def test_a_job_too_far_for_any_shift_is_left_out_as_shift_too_short() -> None:
    result = plan([job("remote", 7)], [crew("user:1", max_work_s=7200)])

    [item] = result.unassigned
    assert item.reason == Reason.shift_too_short
    assert item.detail == "travel there and back plus service take 150 min; user:1 can give 120 min (shift less lunch)"


def test_a_window_no_one_can_reach_is_left_out_as_window_unreachable() -> None:
    result = plan([job("early", 3, window=(at(8), at(8, 20)))], [crew("user:1"), crew("user:2", start=Point(9, 0))])

    [item] = result.unassigned
    assert item.reason == Reason.window_unreachable
    assert item.detail == "earliest arrival 08:30 (user:1) is after the window's end 08:20"


def test_the_urgent_job_is_kept_when_the_day_has_room_for_only_one() -> None:
    # 90 minutes: the urgent job far west alone (40 + 10 + 40) or the minor one nearby, not both.
    result = plan([job("minor", 1, priority=4), job("urgent", -4, priority=1)],
                  [crew("user:1", shift=(at(8), at(9, 30)))])

    assert route_of(result, "user:1") == ["urgent"]
    [item] = result.unassigned
    assert (item.job_key, item.reason) == ("minor", Reason.no_capacity)
    assert "fits alone in user:1's day" in item.detail


def test_one_urgent_job_outweighs_a_few_less_urgent_ones() -> None:
    result = plan([job("minor1", 1, priority=3), job("minor2", 2, priority=3), job("urgent", -4, priority=2)],
                  [crew("user:1", shift=(at(8), at(9, 30)))])

    assert route_of(result, "user:1") == ["urgent"]
    assert set(reasons(result)) == {"minor1", "minor2"}


def test_a_crew_member_with_nothing_to_do_has_an_empty_route() -> None:
    result = plan([job("a", 1)], [crew("user:1"), crew("user:2", start=Point(50, 0))])

    assert route_of(result, "user:1") == ["a"]
    assert [route.crew_key for route in result.routes] == ["user:1", "user:2"]
    assert route_of(result, "user:2") == []


def test_progress_is_reported_to_the_caller() -> None:
    case = problem([job("a", 1)], [crew("user:1")])
    seen: list[float] = []

    solve_plan(case, travel(case), time_limit_s=0.1, seed=1, on_progress=seen.append)

    assert seen and seen[-1] == 1.0


def test_an_order_that_cannot_be_worked_loses_its_least_urgent_job_rather_than_breaking_a_rule() -> None:
    # user:1 has 1 h 20 min: a (urgent) then b then c (least urgent) does not fit; without c it does.
    case = problem([job("a", 1, priority=1), job("b", 2, priority=2), job("c", 3, priority=5)],
                   [crew("user:1", shift=(at(8), at(9, 20)))])

    route, dropped = workable_route(case, travel(case), crew=case.crews[0], job_keys=["a", "b", "c"])

    assert dropped == ["c"]
    assert [stop.job_key for stop in route.stops] == ["a", "b"]


def test_a_load_larger_than_every_van_is_explained_as_such() -> None:
    result = plan([job("pallet", 1, demand=12)], [crew("van:1", capacity=10)])

    [item] = result.unassigned
    assert (item.reason, item.detail) == (Reason.no_capacity, "demand 12 exceeds every capacity (largest 10)")
