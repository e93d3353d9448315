"""Hand-solvable problems: places on a grid of blocks, 10 minutes and 1 km per block (Manhattan), so
every expected time in the tests can be worked out on paper. A point's `lon`/`lat` are its block
coordinates (x, y); the matrices are built from them here, not by `routing.travel`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from routing.problem import Break, Crew, Job, Point, Problem, TravelMatrices, TravelMatrix, Window

__all__ = ["DEPOT", "ORIGIN", "Point", "at", "crew", "job", "problem", "travel"]

ORIGIN = datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
BLOCK_S = 600
BLOCK_M = 1000
DEPOT = Point(0, 0)


def at(hours: int, minutes: int = 0) -> int:
    """A clock time as seconds since the origin (the plan day's midnight)."""
    return hours * 3600 + minutes * 60


def job(key: str, x: int, y: int = 0, *, service_min: int = 10, priority: int = 3,
        window: tuple[int, int] | None = None, skills: frozenset[str] = frozenset(), pinned_to: str | None = None,
        demand: int = 0) -> Job:
    return Job(key=key, point=Point(x, y), service_s=service_min * 60, priority=priority,
               window=Window(*window) if window else None, skills=skills, pinned_to=pinned_to, demand=demand)


def crew(key: str, *, start: Point = DEPOT, end: Point | None = None, shift: tuple[int, int] = (at(8), at(17)),
         skills: frozenset[str] = frozenset(), max_work_s: int | None = None,
         lunch: tuple[int, int, int] | None = None, capacity: int | None = None) -> Crew:
    """`lunch`: (earliest start, latest start, minutes)."""
    return Crew(key=key, start=start, end=end or start, shift_start=shift[0], shift_end=shift[1], skills=skills,
                max_work_s=max_work_s, capacity=capacity,
                lunch=Break(window=Window(lunch[0], lunch[1]), duration_s=lunch[2] * 60) if lunch else None)


def problem(jobs: list[Job], crews: list[Crew]) -> Problem:
    return Problem(origin=ORIGIN, jobs=tuple(jobs), crews=tuple(crews))


def travel(problem_: Problem) -> TravelMatrices:
    points = problem_.points()
    blocks = np.array([[abs(a.lon - b.lon) + abs(a.lat - b.lat) for b in points] for a in points], dtype=np.int64)
    matrix = TravelMatrix(durations_s=blocks * BLOCK_S, distances_m=blocks * BLOCK_M)
    return TravelMatrices(by_mode={crew.mode: matrix for crew in problem_.crews}, source="estimate")
