"""Field work: tasks, checklists, findings, inspection plans, quality control, meter reading."""

from core.registry import Domain
from inspections.permissions import INSPECTION_PERMISSIONS
from inspections.readings.permissions import READING_PERMISSIONS

DOMAIN = Domain(
    name="inspections",
    models=("inspections.models", "inspections.readings.models"),
    routers=("api.routers.tasks:router", "api.routers.checklists:router", "api.routers.quality:router",
             "api.routers.readings:router"),
    permissions=INSPECTION_PERMISSIONS + READING_PERMISSIONS,
    commands=("inspections.readings.cli:add_commands",),
    # The default checklist templates, seeded by a migration; supervisors publish new versions.
    reference_tables=("checklist_templates", "checklist_versions"),
)
