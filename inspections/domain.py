"""Field work: tasks, checklists, findings, inspection plans, quality control."""

from core.registry import Domain
from inspections.permissions import INSPECTION_PERMISSIONS

DOMAIN = Domain(
    name="inspections",
    models=("inspections.models",),
    routers=("api.routers.tasks:router", "api.routers.checklists:router", "api.routers.quality:router"),
    permissions=INSPECTION_PERMISSIONS,
    # The default checklist templates, seeded by a migration; supervisors publish new versions.
    reference_tables=("checklist_templates", "checklist_versions"),
)
