"""Times of one sequenced reading round: leave at the shift start, walk and read in the engine's
order, lunch in its window, walk back.

Reading stops have no appointment windows, so the earliest schedule is the schedule; lunch is taken
at the first stop finished inside the lunch window, or, when the next stop would end after the
window closes, where the reader is at the latest moment the window allows (waiting for it to open if
need be). A round that is over before the window opens has no lunch in it.
(`routing.solver.schedule.schedule_route` is the general scheduler for field work; this one stays
small because a round has none of the windows it handles.)
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.problem import Problem, TravelMatrices
from routing.results import CrewRoute, ScheduledBreak, ScheduledStop


def scheduled_route(problem: Problem, travel: TravelMatrices, *, crew_no: int, job_keys: Sequence[str]) -> CrewRoute:
    crew = problem.crews[crew_no]
    matrix = travel.for_mode(crew.mode)
    index = {job.key: n for n, job in enumerate(problem.jobs)}
    now, here = crew.shift_start, problem.start_index(crew_no)
    stops: list[ScheduledStop] = []
    lunch: ScheduledBreak | None = None
    travel_s = travel_m = service_s = wait_s = 0
    for key in job_keys:
        job_no = index[key]
        job, there = problem.jobs[job_no], problem.job_index(job_no)
        leg_s, leg_m = int(matrix.durations_s[here, there]), int(matrix.distances_m[here, there])
        if crew.lunch is not None and lunch is None and (
                now >= crew.lunch.window.start or now + leg_s + job.service_s > crew.lunch.window.end):
            lunch, waited = _lunch(now, crew.lunch.window.start, crew.lunch.duration_s, stops)
            now, wait_s = lunch.end, wait_s + waited
        arrival = now + leg_s
        start = max(arrival, job.window.start) if job.window else arrival
        stops.append(ScheduledStop(job_key=key, arrival=arrival, start=start, departure=start + job.service_s,
                                   wait_s=start - arrival, travel_s=leg_s, travel_m=leg_m))
        travel_s, travel_m = travel_s + leg_s, travel_m + leg_m
        service_s, wait_s = service_s + job.service_s, wait_s + start - arrival
        now, here = start + job.service_s, there
    if crew.lunch is not None and lunch is None and stops and now >= crew.lunch.window.start:
        lunch, waited = _lunch(now, crew.lunch.window.start, crew.lunch.duration_s, stops)
        now, wait_s = lunch.end, wait_s + waited
    end = problem.end_index(crew_no)
    back_s, back_m = int(matrix.durations_s[here, end]), int(matrix.distances_m[here, end])
    return CrewRoute(crew_key=crew.key, leave_start=crew.shift_start, return_end=now + back_s, stops=tuple(stops),
                     lunch=lunch, travel_s=travel_s + back_s, travel_m=travel_m + back_m, service_s=service_s,
                     wait_s=wait_s)


def _lunch(now: int, opens: int, duration_s: int, stops: list[ScheduledStop]) -> tuple[ScheduledBreak, int]:
    """The break taken here (after the last stop so far), once its window is open; and the wait for it."""
    start = max(now, opens)
    after = stops[-1].job_key if stops else None
    return ScheduledBreak(start=start, end=start + duration_s, after_job=after), start - now
