"""Offline sync for the mobile app: devices, pull, GPS pings and positions (issue 9 §3)."""

from celery.schedules import crontab

from core.registry import Domain
from core.settings import Settings
from inspections.sync.permissions import SYNC_PERMISSIONS
from inspections.sync.settings import sync_settings


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    sync = sync_settings(settings)
    return {"purge-old-gps-pings": {"task": "inspections.sync.purge_old_pings",
                                    "schedule": crontab(hour=sync.ping_retention_hour_utc,
                                                        minute=sync.ping_retention_minute_utc)}}


DOMAIN = Domain(
    name="inspections.sync",
    models=("inspections.sync.models",),
    routers=("api.routers.devices:router", "api.routers.sync:router", "api.routers.positions:router"),
    tasks=("inspections.sync.tasks",),
    beat=beat,
    permissions=SYNC_PERMISSIONS,
)
