"""Field work: tasks, checklists, findings, inspection plans, quality control."""

from core.registry import Domain
from inspections.permissions import INSPECTION_PERMISSIONS, TASKS_PLAN

DOMAIN = Domain(
    name="inspections",
    models=("inspections.models",),
    permissions=INSPECTION_PERMISSIONS,
    # Task and finding events reach those who plan the work (dispatchers, supervisors) on the console's
    # stream; an inspector sees only their own tasks (through sync), never a colleague's in a feed.
    event_visibility=(("task", TASKS_PLAN), ("finding", TASKS_PLAN)),
)
