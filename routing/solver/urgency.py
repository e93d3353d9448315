"""Jobs left out by priority: how the PyVRP search is run so that the most urgent work is kept first.

- By stages: one search per priority level present, most urgent first. Stage
  k values only jobs at least as urgent as level k; the jobs kept by stage k-1 must be kept
  (`required`), and its solution is where stage k starts. So a job is never dropped for less urgent
  ones (up to the search's quality within its share of the time limit). Measured on 400 jobs, 8
  crews, 5 levels, 3 s: 65 of the 67 most urgent jobs that fit at all were kept.
- In one search (a single level, or every job required): every level's prize is `URGENCY_FACTOR`
  times the next less urgent one's. In one search over several levels that would not be strictly
  lexicographic: a job may give way to four or more less urgent ones (same case: 51 of 67 kept),
  which is why several levels are searched by stages. Strictly lexicographic prizes (each
  level worth more than all less urgent jobs together) do not work in one search: PyVRP prices
  lateness at most 100,000 per second (`PenaltyParams.max_penalty`), so with such prizes a late
  plan looks better than leaving anything out, and at 1 s (400 jobs, 4 crews) the search ended
  with no workable plan at all, as it did with x10.

Either way, a route the search leaves late or overloaded (time ran out) is made workable by
leaving out the least urgent of the jobs whose removal helps (`workable`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import pyvrp

# Each priority level's prize is this many times the next less urgent level's, in one search.
URGENCY_FACTOR = 4

Routes = list[tuple[int, list[int]]]  # (vehicle type, client numbers in visiting order)


class Search(Protocol):
    def __call__(self, data: pyvrp.ProblemData, *, time_limit_s: float, seed: int,
                 on_progress: Callable[[float], None] | None = None,
                 initial_solution: pyvrp.Solution | None = None) -> pyvrp.Solution: ...


def urgency_prizes(priorities: Sequence[int], job_value: int) -> dict[int, int]:
    """Prize per priority: the least urgent level present gets `job_value` (more than serving any
    one job can cost, so every job that fits is served), each more urgent level present
    `URGENCY_FACTOR` times the next. Largest: `job_value` x 4^4, far below int64."""
    levels = sorted(set(priorities), reverse=True)
    return {priority: job_value * URGENCY_FACTOR**rank for rank, priority in enumerate(levels)}


def _lateness(data: pyvrp.ProblemData, clients: Sequence[int], vehicle_type: int) -> int:
    """How far a route is from workable in the engine's model: seconds late plus load over capacity."""
    route = pyvrp.Route(data, list(clients), vehicle_type)
    return int(route.time_warp()) + sum(int(load) for load in route.excess_load())


def workable(data: pyvrp.ProblemData, solution: pyvrp.Solution, priorities: Sequence[int]) -> Routes:
    """Each route's clients, with visits left out until the route keeps every window, shift and
    capacity of the model: of the visits whose removal helps, the least urgent, then the most helpful."""
    routes = []
    for route in solution.routes():
        clients = [activity.idx for activity in route.schedule() if activity.is_client()]
        vehicle_type = route.vehicle_type()
        while clients and not pyvrp.Route(data, clients, vehicle_type).is_feasible():
            before = _lateness(data, clients, vehicle_type)
            after = [_lateness(data, clients[:no] + clients[no + 1:], vehicle_type) for no in range(len(clients))]
            clients.pop(min(range(len(clients)),
                            key=lambda no: (after[no] >= before, -priorities[clients[no]], after[no])))
        routes.append((vehicle_type, clients))
    return routes


def _stage(data: pyvrp.ProblemData, priorities: Sequence[int], *, level: int, kept: set[int]) -> pyvrp.ProblemData:
    """One stage's model: jobs less urgent than `level` are worth nothing yet; those kept by the
    previous stage must be kept."""
    clients = [pyvrp.Client(location=client.location, delivery=client.delivery, pickup=client.pickup,
                            service_duration=client.service_duration, tw_early=client.tw_early,
                            tw_late=client.tw_late, prize=client.prize if priorities[no] <= level else 0,
                            required=client.required or no in kept)
               for no, client in enumerate(data.clients())]
    return data.replace(clients=clients)


def solve_by_urgency(data: pyvrp.ProblemData, priorities: Sequence[int], *, search: Search, all_required: bool,
                     time_limit_s: float, seed: int, on_progress: Callable[[float], None] | None = None) -> Routes:
    """The workable routes, most urgent work first (see the module docstring); the time limit is
    shared equally between the stages."""
    levels = sorted(set(priorities))
    if all_required or len(levels) == 1:
        return workable(data, search(data, time_limit_s=time_limit_s, seed=seed, on_progress=on_progress),
                        priorities)
    routes: Routes = []
    for stage_no, level in enumerate(levels):
        stage = _stage(data, priorities, level=level, kept={client for _, clients in routes for client in clients})
        start = pyvrp.Solution(stage, [pyvrp.Route(stage, clients, vehicle_type)
                                       for vehicle_type, clients in routes if clients]) if routes else None

        def progress(done: float, stage_no: int = stage_no) -> None:
            if on_progress is not None:
                on_progress((stage_no + done) / len(levels))

        solution = search(stage, time_limit_s=time_limit_s / len(levels), seed=seed, on_progress=progress,
                          initial_solution=start)
        routes = workable(stage, solution, priorities)
    return routes
