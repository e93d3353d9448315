"""Offline sync for the mobile app: devices, pull, GPS pings and positions, and push with its
backlog and conflicts (issue 9 §3)."""

from celery.schedules import crontab

from core.registry import Domain
from core.settings import Settings
from inspections.sync import push_tasks
from inspections.sync.permissions import SYNC_PERMISSIONS
from inspections.sync.push_permissions import PUSH_PERMISSIONS
from inspections.sync.settings import sync_settings


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    sync = sync_settings(settings)
    return {"purge-old-gps-pings": {"task": "inspections.sync.purge_old_pings",
                                    "schedule": crontab(hour=sync.ping_retention_hour_utc,
                                                        minute=sync.ping_retention_minute_utc)},
            **push_tasks.beat(settings)}


DOMAIN = Domain(
    name="inspections.sync",
    models=("inspections.sync.models", "inspections.sync.push_models"),
    routers=("api.routers.devices:router", "api.routers.sync:router", "api.routers.sync_push:router",
             "api.routers.positions:router"),
    tasks=("inspections.sync.tasks", "inspections.sync.push_tasks"),
    beat=beat,
    permissions=SYNC_PERMISSIONS + PUSH_PERMISSIONS,
)
