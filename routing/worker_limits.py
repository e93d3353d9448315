"""How long the worker may spend on a plan beyond the solver's own time limit: building the travel
matrices (pgRouting on a large network), scheduling, checking and rendering. Celery's soft limit
raises in the task (the plan is marked failed with the reason); the hard limit kills a stuck one.
The relay (`routing.relay`) treats a plan `solving` for longer than the hard limit as lost."""

from __future__ import annotations

# Operational margins, not product rules: generous for a 2-core machine building a 5,000-point matrix.
SOFT_MARGIN_S = 120.0
HARD_MARGIN_S = 180.0


def celery_limits(time_limit_s: float) -> tuple[float, float]:
    """(soft, hard) Celery time limits of a plan solved within `time_limit_s`."""
    return time_limit_s + SOFT_MARGIN_S, time_limit_s + HARD_MARGIN_S
