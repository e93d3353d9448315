"""A stand-in for the rounds tests (and `bench/rounds.py`) until the solver helper's engine lands on
main: `StandInEngine`, an `Engine` running the same search (`routing.solver.search.run_search`) on a PyVRP model of one crew member's day (start and end
depots, the shift as the vehicle's time window, the shift minus lunch as its duration limit, stops
optional with a prize so an over-full day leaves some out rather than breaking the shift).
The tests then check what the rounds make of the engine's answer, not the engine."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyvrp

from routing.problem import Assignment, Problem, TravelMatrices
from routing.solver.search import run_search

# Worth more than any day's travel: leaving a stop out is always worse than walking to it.
PRIZE = 10_000_000


class StandInEngine:
    name = "stand-in pyvrp"

    def solve(self, problem: Problem, travel: TravelMatrices, *, time_limit_s: float, seed: int,
              on_progress: Callable[[float], None] | None = None) -> Assignment:
        (crew,) = problem.crews
        durations = travel.for_mode(crew.mode).durations_s.astype(np.int64)
        points = problem.points()
        locations = [pyvrp.Location(x=0, y=0) for _ in points]
        length = crew.max_work_s if crew.max_work_s is not None else crew.shift_end - crew.shift_start
        lunch = crew.lunch.duration_s if crew.lunch else 0
        vehicle = pyvrp.VehicleType(num_available=1, start_depot=0, end_depot=1, tw_early=crew.shift_start,
                                    tw_late=crew.shift_end - lunch, shift_duration=length - lunch,
                                    unit_distance_cost=1)
        clients = [pyvrp.Client(location=problem.job_index(n), service_duration=job.service_s, prize=PRIZE,
                                required=False) for n, job in enumerate(problem.jobs)]
        data = pyvrp.ProblemData(locations=locations, clients=clients,
                                 depots=[pyvrp.Depot(location=0), pyvrp.Depot(location=1)],
                                 vehicle_types=[vehicle],
                                 # pyvrp's stubs type a matrix as ndarray[int]; any int64 matrix does.
                                 distance_matrices=[durations],  # type: ignore[list-item]
                                 duration_matrices=[durations])  # type: ignore[list-item]
        best = run_search(data, time_limit_s=time_limit_s, seed=seed, on_progress=on_progress)
        visited = [problem.jobs[activity.idx].key for route in best.routes() for activity in route
                   if activity.is_client()]
        left = tuple(job.key for job in problem.jobs if job.key not in set(visited))
        return Assignment(routes={crew.key: tuple(visited)}, unassigned=left)
