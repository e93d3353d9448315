"""Field work: tasks, checklists, findings, inspection plans, quality control, meter reading."""

from core.registry import Domain
from inspections.permissions import INSPECTION_PERMISSIONS, TASKS_PLAN
from inspections.readings.permissions import READING_PERMISSIONS

DOMAIN = Domain(
    name="inspections",
    models=("inspections.models", "inspections.readings.models"),
    routers=("api.routers.tasks:router", "api.routers.checklists:router", "api.routers.quality:router",
             "api.routers.readings:router"),
    permissions=INSPECTION_PERMISSIONS + READING_PERMISSIONS,
    commands=("inspections.readings.cli:add_commands",),
    # Task and finding events reach those who plan the work (dispatchers, supervisors) on the console's
    # stream; an inspector sees only their own tasks (through sync), never a colleague's in a feed.
    event_visibility=(("task", TASKS_PLAN), ("finding", TASKS_PLAN)),
    # The default checklist templates, seeded by a migration; supervisors publish new versions.
    reference_tables=("checklist_templates", "checklist_versions"),
)
