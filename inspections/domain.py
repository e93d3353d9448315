"""Field work: tasks, checklists, findings, inspection plans, quality control."""

from core.registry import Domain
from inspections.permissions import INSPECTION_PERMISSIONS

DOMAIN = Domain(
    name="inspections",
    models=("inspections.models",),
    permissions=INSPECTION_PERMISSIONS,
)
