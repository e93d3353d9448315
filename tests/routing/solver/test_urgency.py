"""Jobs left out by priority: the engine searches by stages of urgency, so a job never gives way to
less urgent ones, however many."""

from __future__ import annotations

from routing.solver.engine import PyVrpEngine
from tests.routing.solver.grid import at, crew, job, problem, travel

# 90 minutes: the urgent job far west alone (40 + 10 + 40), or the five minor ones nearby (10 + 50 + 10).
FIVE_MINOR = problem([job("urgent", -4, priority=1)] + [job(f"minor{no}", 1, priority=4) for no in range(5)],
                     [crew("user:1", shift=(at(8), at(9, 30)))])


def test_by_stages_one_urgent_job_outweighs_any_number_of_less_urgent_ones() -> None:
    seen: list[float] = []

    assignment = PyVrpEngine().solve(FIVE_MINOR, travel(FIVE_MINOR), time_limit_s=0.4, seed=1,
                                     on_progress=seen.append)

    assert assignment.routes == {"user:1": ("urgent",)}
    # Two levels, two stages: the first ends half-way, progress only grows and ends at 1.
    assert 0.5 in seen and seen == sorted(seen) and seen[-1] == 1.0
