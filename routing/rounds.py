"""Meter-reading rounds (issue 12 §1): every customer of the books due in the window, split into
balanced daily rounds per reader, each round sequenced by the routing engine. Pure: no database.

Three steps, because a whole window (thousands of stops, readers x days routes) is too large for
one routing search within a minute, while each of its rounds (~100-150 stops) is an easy one:
1. Reader areas: `round_areas.split` (capacitated k-means, OR-Tools min-cost flow assignment)
   gives each reader a compact area whose *estimated* working time (reads plus the walk, plus the
   walk from their start every day) is the same share of their days; `round_balance.rebalanced`
   then evens the areas out on the closer spanning-tree estimate.
2. Days: each reader's area split the same way into the window's days.
3. Each round planned by `routing.solver.planner.solve_plan` with the `Engine` (one Crew: the
   reader on that day; one Job per stop) on the travel `travel_for` gives (pgRouting or the
   estimate): sequenced, scheduled with the lunch, explained, and checked by the independent check.
Stops that cannot fit in the window at all (the estimate of a round beyond the reader's day) are
left out, the most time-costly first, as `no_capacity` with the time needed against the time there
is; a stop the planner still leaves out of its round comes with the planner's own reason.

Measured (`./gw bench rounds`: 5,000 SimBench customers, 10 readers from one office, 4 days, on
foot, estimate travel, 2 cores at load average ~6, PyVRP search): this split and sequencing take
38 s for a 45 s limit (the split 2 s), walk 295 km, and working time per reader is 22.6-23.9 h
(max/min 1.06), per round 5.4-6.0 h (1.11). The naive split (reading order cut into equal runs)
with the same engine and time walks 493 km, readers 1.21, rounds 1.31. One PyVRP search over the
whole window instead (40 reader-days as vehicles with the 8 h limit, 45 s limit) walks less
(233 km: it fills 29 days to 7.7-8.0 h and leaves 11 empty, so fewer walks from the office) but
took 62 s for its 45 s limit on 5,000 stops, and balances nothing: rounds of 4.4-8.0 h.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from routing import round_areas
from routing.problem import Crew, Job, Point, Problem, TravelMatrices
from routing.results import CrewRoute, Reason, Unassigned
from routing.round_balance import rebalanced
from routing.rules import routing_rules
from routing.solver.engine import Engine, default_engine
from routing.solver.planner import solve_plan

TravelFor = Callable[[Sequence[Point], Collection[str]], TravelMatrices]
# Part of the time limit spent on searches; the rest is margin for the travel matrices and schedules.
SEARCH_SHARE = 0.85
PARTITION_PROGRESS = 0.05


@dataclass(frozen=True)
class Round:
    reader_key: str
    day_no: int          # index into origin_days
    route: CrewRoute


@dataclass(frozen=True)
class RoundsResult:
    """The rounds, the stops left out, and the balance of working time (travel + service, seconds;
    lunch and waiting are not work to share out): `reader_*` over readers' whole windows, `round_*`
    over rounds; `*_max_over_min` is infinite when a reader (or round) has no work at all."""

    rounds: tuple[Round, ...]
    unassigned: tuple[Unassigned, ...]
    balance: dict[str, float]
    travel_source: str


def daily_capacity_s(reader: Crew) -> int:
    """Seconds of work in one of the reader's days: the shift (or the cap on it) without the lunch."""
    length = reader.max_work_s if reader.max_work_s is not None else reader.shift_end - reader.shift_start
    return length - (reader.lunch.duration_s if reader.lunch else 0)


def plan_rounds(*, origin_days: Sequence[datetime], stops: Sequence[Job], readers: Sequence[Crew],
                travel_for: TravelFor, engine: Engine | None = None, time_limit_s: float, seed: int,
                on_progress: Callable[[float], None] | None = None) -> RoundsResult:
    """The window's rounds: `readers` carry a daily shift (seconds since a day's origin),
    `origin_days[d]` is day d's local midnight. Same input and seed: same areas and days; the
    sequencing is repeatable as far as the engine's search is (not cut short by its time limit)."""
    if not readers or not origin_days:
        raise ValueError("rounds need at least one reader and one day")
    started = time.monotonic()
    engine = engine or default_engine()
    plan = _partition(stops, readers, days=len(origin_days), seed=seed)
    if on_progress is not None:
        on_progress(PARTITION_PROGRESS)
    rounds: list[Round] = []
    unassigned = list(plan.left_out)
    sources: set[str] = set()
    remaining = sum(len(members) for _, _, members in plan.rounds)
    for reader_no, day_no, members in plan.rounds:
        reader = readers[reader_no]
        problem = Problem(origin=origin_days[day_no], jobs=tuple(sorted((stops[i] for i in members),
                                                                          key=lambda job: job.key)),
                          crews=(reader,))
        travel = travel_for(problem.points(), {reader.mode})
        sources.add(travel.source)
        left = started + time_limit_s * SEARCH_SHARE - time.monotonic()
        budget = max(0.05, left * len(members) / remaining)
        day = solve_plan(problem, travel, engine=engine, time_limit_s=budget, seed=seed)
        rounds.extend(Round(reader_key=reader.key, day_no=day_no, route=route) for route in day.routes)
        unassigned.extend(day.unassigned)
        remaining -= len(members)
        if on_progress is not None:
            on_progress(PARTITION_PROGRESS + (1 - PARTITION_PROGRESS) * (1 - remaining / max(1, len(stops))))
    if on_progress is not None and not plan.rounds:
        on_progress(1.0)
    return RoundsResult(rounds=tuple(rounds), unassigned=tuple(unassigned),
                        balance=balance(rounds, readers),
                        travel_source="estimate" if "estimate" in sources or not sources else min(sources))


@dataclass(frozen=True)
class _Partition:
    rounds: list[tuple[int, int, list[int]]]   # (reader no, day no, stop indexes)
    left_out: list[Unassigned]


def _partition(stops: Sequence[Job], readers: Sequence[Crew], *, days: int, seed: int) -> _Partition:
    if not stops:
        return _Partition(rounds=[], left_out=[])
    rules = routing_rules()
    xy = round_areas.projected([job.point for job in stops] + [reader.start for reader in readers])
    stop_xy, anchors = xy[:len(stops)], xy[len(stops):]
    # Seconds per straight-line metre: the estimate's circuity at the readers' mean walking speed.
    s_per_m = rules.circuity * statistics.fmean(3.6 / rules.mode(r.mode).default_kmh for r in readers)
    walk_s = round_areas.nearest_neighbour_m(stop_xy) * round_areas.TOUR_PER_NEAREST_NEIGHBOUR * s_per_m
    service_s = np.array([job.service_s for job in stops], dtype=np.float64)
    demand = round_areas.Demand(service_s=service_s, stop_s=service_s + walk_s, s_per_m=s_per_m)
    daily = np.array([daily_capacity_s(reader) for reader in readers], dtype=np.float64)
    areas = round_areas.split(stop_xy, demand, anchors=anchors, capacity_s=daily * days, trips=days, seed=seed)
    areas = rebalanced(stop_xy, demand, areas, anchors=anchors, capacity_s=daily * days, trips=days)
    needed_s, available_s = float(areas.estimated_s.sum()), float(daily.sum() * days)
    rounds: list[tuple[int, int, list[int]]] = []
    left_out: list[int] = []
    for reader_no in range(len(readers)):
        members = np.flatnonzero(areas.labels == reader_no)
        home = np.repeat(anchors[reader_no:reader_no + 1], days, axis=0)
        day_capacity = np.full(days, daily[reader_no])
        day_areas = round_areas.split(stop_xy[members], demand.subset(members), anchors=home,
                                      capacity_s=day_capacity, trips=1, seed=seed)
        day_areas = rebalanced(stop_xy[members], demand.subset(members), day_areas, anchors=home,
                               capacity_s=day_capacity, trips=1)
        for day_no in range(days):
            in_day = members[day_areas.labels == day_no]
            kept, dropped = _fit(in_day, demand.stop_s, estimated_s=float(day_areas.estimated_s[day_no]),
                                 capacity_s=float(daily[reader_no]))
            left_out.extend(dropped)
            if kept:
                rounds.append((reader_no, day_no, kept))
    detail = (f"the window's {days} day(s) x {len(readers)} reader(s) give {available_s / 3600:.1f} h of work; "
              f"all {len(stops)} stops need about {needed_s / 3600:.1f} h (reading and walking)")
    return _Partition(rounds=rounds, left_out=[Unassigned(job_key=stops[i].key, reason=Reason.no_capacity,
                                                          detail=detail) for i in sorted(left_out)])


def _fit(members: np.ndarray, stop_s: np.ndarray, *, estimated_s: float,
         capacity_s: float) -> tuple[list[int], list[int]]:
    """The round's stops that fit its day by the estimate; the most time-costly ones leave first
    (the most isolated meters: each one dropped frees the most time for the others)."""
    order = sorted(members.tolist(), key=lambda i: (-stop_s[i], i))
    dropped: list[int] = []
    while estimated_s > capacity_s and order:
        i = order.pop(0)
        estimated_s -= float(stop_s[i])
        dropped.append(i)
    return sorted(order), dropped


def balance(rounds: Sequence[Round], readers: Sequence[Crew]) -> dict[str, float]:
    """min / max / mean / stdev / max-over-min of working time per reader and per round (seconds).
    max-over-min is left out when someone has no work at all (no finite ratio; JSON has no infinity)."""
    per_round = [float(r.route.travel_s + r.route.service_s) for r in rounds]
    per_reader = {reader.key: 0.0 for reader in readers}
    for one, work in zip(rounds, per_round, strict=True):
        per_reader[one.reader_key] += work
    return {**_summary("reader", list(per_reader.values())), **_summary("round", per_round)}


def _summary(name: str, values: list[float]) -> dict[str, float]:
    if not values:
        values = [0.0]
    low, high = min(values), max(values)
    summary = {f"{name}_work_min_s": low, f"{name}_work_max_s": high, f"{name}_work_mean_s": statistics.fmean(values),
               f"{name}_work_stdev_s": statistics.pstdev(values)}
    if low > 0:
        summary[f"{name}_work_max_over_min"] = high / low
    return summary
