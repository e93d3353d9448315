"""Field work: tasks, checklists, findings, inspection plans, quality control."""

from celery.schedules import crontab

from core.registry import Domain
from core.settings import Settings
from inspections.permissions import INSPECTION_PERMISSIONS
from inspections.plan_settings import plan_settings


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    # Once a day, just after midnight in the utility's time zone (GW_PLANS_TIMEZONE).
    plans = plan_settings(settings)
    return {"create-due-inspection-tasks": {"task": "inspections.create_due_tasks",
                                            "schedule": crontab(hour=plans.run_hour_utc,
                                                                minute=plans.run_minute_utc)}}


DOMAIN = Domain(
    name="inspections",
    models=("inspections.models",),
    routers=("api.routers.inspection_plans:router",),
    tasks=("inspections.plan_jobs",),
    beat=beat,
    permissions=INSPECTION_PERMISSIONS,
    commands=("inspections.plan_cli:add_commands",),
)
