"""Field work: tasks, checklists, findings, inspection plans, quality control."""

from core.registry import Domain
from inspections.permissions import INSPECTION_PERMISSIONS
from inspections.sync.push_permissions import PUSH_PERMISSIONS
from inspections.sync.push_tasks import beat as sync_push_beat

DOMAIN = Domain(
    name="inspections",
    models=("inspections.models", "inspections.sync.push_models"),
    routers=("api.routers.sync_push:router",),
    tasks=("inspections.sync.push_tasks",),
    beat=sync_push_beat,
    permissions=INSPECTION_PERMISSIONS + PUSH_PERMISSIONS,
)
