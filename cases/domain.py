"""Cases: connection requests, construction permits and encroachment cases, from first contact to
decision, with working-day deadlines and decision documents."""

from celery.schedules import crontab

from cases.permissions import CASE_PERMISSIONS, CASES_READ
from cases.settings import workflow_settings
from core.registry import Domain
from core.settings import Settings


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    # Once a day, after midnight in the utility's time zone (Asia/Shanghai 00:30 = 16:30 UTC).
    workflow = workflow_settings(settings)
    return {"flag-overdue-cases": {"task": "cases.flag_overdue",
                                   "schedule": crontab(hour=workflow.overdue_check_hour_utc,
                                                       minute=workflow.overdue_check_minute_utc)}}


DOMAIN = Domain(
    name="cases",
    models=("cases.models",),
    routers=("api.routers.cases:router", "api.routers.calendars:router"),
    tasks=("cases.tasks",),
    beat=beat,
    permissions=CASE_PERMISSIONS,
    # Case events carry the state, kind, number and location, no applicant data: who reads cases sees them.
    event_visibility=(("case", CASES_READ),),
    # The holiday calendar in force, seeded by a migration and maintained by administrators.
    reference_tables=("working_calendars",),
    # Cases as points for GIS clients (OGC API Features), through the generic list SQL; no REST route.
    layers=("cases.layers:CASES",),
    # Photos of site surveys, re-inspections and encroachments (`media`).
    evidence_links=("cases.evidence_links:CASE_LINK",),
)
