"""Offline sync for the mobile app: devices, pull, GPS pings and positions, and push with its
backlog and conflicts (issue 9 §3)."""

from datetime import timedelta

from celery.schedules import crontab

from core.registry import Domain
from core.settings import Settings
from inspections.sync.permissions import POSITIONS_READ_ALL, SYNC_PERMISSIONS
from inspections.sync.push_permissions import PUSH_PERMISSIONS, SYNC_BACKLOG_MANAGE
from inspections.sync.push_settings import push_settings
from inspections.sync.settings import sync_settings


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    sync = sync_settings(settings)
    return {"purge-old-gps-pings": {"task": "inspections.sync.purge_old_pings",
                                    "schedule": crontab(hour=sync.ping_retention_hour_utc,
                                                        minute=sync.ping_retention_minute_utc)},
            # Parents also arrive without a push (a task planned in the console), and old items must age out.
            "sync-push-backlog": {"task": "inspections.sync.process_backlog",
                                  "schedule": timedelta(minutes=push_settings(settings).backlog_check_minutes)}}


DOMAIN = Domain(
    name="inspections.sync",
    models=("inspections.sync.models", "inspections.sync.push_models"),
    routers=("api.routers.devices:router", "api.routers.sync:router", "api.routers.sync_push:router",
             "api.routers.positions:router"),
    tasks=("inspections.sync.tasks", "inspections.sync.push_tasks"),
    beat=beat,
    permissions=SYNC_PERMISSIONS + PUSH_PERMISSIONS,
    # Where each crew is (live positions: `position.reported` of a user) is for the dispatch desk, as
    # are items that aged out of the backlog; conflicts are events of the record they are about.
    event_visibility=(("user", POSITIONS_READ_ALL), ("sync_backlog", SYNC_BACKLOG_MANAGE)),
)
