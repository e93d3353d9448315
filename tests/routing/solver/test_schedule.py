"""The times of a crew member's day for a given order: earliest service, waiting for windows, the
lunch break placed where it costs least, and leaving no earlier than needed (10 min per block)."""

from __future__ import annotations

import pytest

from routing.results import ScheduledBreak, ScheduledStop
from routing.solver.schedule import RouteInfeasible, schedule_route
from tests.routing.solver.grid import Point, at, crew, job, problem, travel

LUNCH = (at(11, 30), at(13), 60)


def test_stops_are_served_on_arrival_and_the_totals_include_the_way_back() -> None:
    case = problem([job("a", 1), job("b", 2)], [crew("user:1", end=Point(5, 0))])

    route = schedule_route(case, travel(case), crew_key="user:1", job_keys=["a", "b"])

    assert route.leave_start == at(8)
    assert route.stops == (
        ScheduledStop("a", arrival=at(8, 10), start=at(8, 10), departure=at(8, 20), wait_s=0, travel_s=600,
                      travel_m=1000),
        ScheduledStop("b", arrival=at(8, 30), start=at(8, 30), departure=at(8, 40), wait_s=0, travel_s=600,
                      travel_m=1000))
    assert route.return_end == at(9, 10)
    assert (route.travel_s, route.travel_m, route.service_s, route.wait_s) == (3000, 5000, 1200, 0)
    assert route.lunch is None


def test_the_crew_leaves_as_late_as_the_windows_allow_and_waits_only_where_it_must() -> None:
    case = problem([job("p", 2, window=(at(8, 20), at(8, 30))), job("q", 1, window=(at(9), at(9, 10)))],
                   [crew("user:1")])

    route = schedule_route(case, travel(case), crew_key="user:1", job_keys=["p", "q"])

    # Leaving at 08:10 still reaches p by the end of its window; q cannot start before 09:00 anyway.
    assert route.leave_start == at(8, 10)
    assert [(s.arrival, s.start, s.wait_s) for s in route.stops] == [(at(8, 30), at(8, 30), 0),
                                                                    (at(8, 50), at(9), 600)]
    assert route.return_end == at(9, 20)
    assert route.work_s == at(1, 10)


def test_lunch_is_taken_inside_its_window_between_two_stops() -> None:
    places = (("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5))
    case = problem([job(key, x, service_min=60) for key, x in places],
                   [crew("user:1", end=Point(6, 0), lunch=LUNCH)])

    route = schedule_route(case, travel(case), crew_key="user:1", job_keys=[key for key, _ in places])

    # c ends at 11:30: lunch at once (after d, at 12:40, would bring them back no sooner), then d and e.
    assert route.lunch == ScheduledBreak(start=at(11, 30), end=at(12, 30), after_job="c")
    assert [stop.start for stop in route.stops[3:]] == [at(12, 40), at(13, 50)]
    assert route.return_end == at(15)


def test_lunch_goes_where_the_crew_waits_anyway_and_delays_nothing() -> None:
    jobs = [job("a", 1, service_min=30, window=(at(11), at(11))), job("b", 2, service_min=30,
                                                                      window=(at(13), at(13)))]
    with_lunch = problem(jobs, [crew("user:1", lunch=LUNCH)])
    without = problem(jobs, [crew("user:1")])

    route = schedule_route(with_lunch, travel(with_lunch), crew_key="user:1", job_keys=["a", "b"])
    plain = schedule_route(without, travel(without), crew_key="user:1", job_keys=["a", "b"])

    assert route.lunch == ScheduledBreak(start=at(11, 30), end=at(12, 30), after_job="a")
    assert route.stops[1].start == at(13)
    assert route.return_end == plain.return_end == at(13, 50)
    assert route.stops[1].wait_s == 20 * 60  # a to b: 90 minutes, of which 60 lunch, 10 travel, 20 waiting
    assert plain.stops[1].wait_s == 80 * 60


def test_a_day_done_before_the_lunch_window_has_lunch_at_the_end_place() -> None:
    case = problem([job("a", 1)], [crew("user:1", lunch=LUNCH)])

    route = schedule_route(case, travel(case), crew_key="user:1", job_keys=["a"])

    assert route.return_end == at(8, 30)
    assert route.lunch == ScheduledBreak(start=at(11, 30), end=at(12, 30), after_job="a")


def test_a_job_whose_window_opens_after_lunch_has_the_break_first_at_the_start_place() -> None:
    case = problem([job("late", 1, service_min=30, window=(at(13, 30), at(14)))], [crew("user:1", lunch=LUNCH)])

    route = schedule_route(case, travel(case), crew_key="user:1", job_keys=["late"])

    assert route.lunch == ScheduledBreak(start=at(12, 20), end=at(13, 20), after_job=None)
    assert route.leave_start == at(13, 20)
    assert route.stops[0].start == at(13, 30)


def test_no_lunch_is_placed_when_its_window_closed_before_the_shift_started() -> None:
    case = problem([job("a", 1)], [crew("user:1", shift=(at(14), at(17)), lunch=LUNCH)])

    route = schedule_route(case, travel(case), crew_key="user:1", job_keys=["a"])

    assert route.lunch is None
    assert route.leave_start == at(14)


@pytest.mark.parametrize(("jobs", "crew_args", "rule"), [
    ([job("a", 3, window=(at(8), at(8, 20)))], {}, "window"),
    ([job("a", 3)], {"shift": (at(8), at(8, 50))}, "shift_end"),
    ([job("a", 3)], {"max_work_s": 3600}, "max_work"),
    ([job("a", 1, service_min=240, window=(at(11, 10), at(11, 10)))], {"shift": (at(11), at(17)), "lunch": LUNCH},
     "lunch"),
])
def test_an_order_that_breaks_a_rule_is_refused_naming_it(jobs: list, crew_args: dict, rule: str) -> None:
    case = problem(jobs, [crew("user:1", **crew_args)])

    with pytest.raises(RouteInfeasible) as refused:
        schedule_route(case, travel(case), crew_key="user:1", job_keys=[j.key for j in jobs])

    assert refused.value.rule == rule


def test_a_crew_member_without_jobs_stays_at_the_start() -> None:
    case = problem([job("a", 1)], [crew("user:1", lunch=LUNCH)])

    route = schedule_route(case, travel(case), crew_key="user:1", job_keys=[])

    assert (route.stops, route.lunch, route.work_s, route.travel_s) == ((), None, 0, 0)
