"""Field work: tasks, checklists, findings, inspection plans, quality control, meter reading.
(Devices and offline sync are the domain `inspections.sync`.)"""

from celery.schedules import crontab

from core.registry import Domain
from core.settings import Settings
from inspections.permissions import INSPECTION_PERMISSIONS, TASKS_AUDIT, TASKS_PLAN
from inspections.plan_settings import plan_settings
from inspections.readings.permissions import READING_PERMISSIONS


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    # Once a day, just after midnight in the utility's time zone (inspections/data/local_time.json).
    plans = plan_settings(settings)
    return {"create-due-inspection-tasks": {"task": "inspections.create_due_tasks",
                                            "schedule": crontab(hour=plans.run_hour_utc,
                                                                minute=plans.run_minute_utc)}}


DOMAIN = Domain(
    name="inspections",
    models=("inspections.models", "inspections.readings.models"),
    routers=("api.routers.tasks:router", "api.routers.checklists:router", "api.routers.quality:router",
             "api.routers.inspection_plans:router", "api.routers.readings:router"),
    tasks=("inspections.plan_jobs",),
    beat=beat,
    permissions=INSPECTION_PERMISSIONS + READING_PERMISSIONS,
    commands=("inspections.plan_cli:add_commands", "inspections.readings.cli:add_commands"),
    # A case's site visits are field tasks (inspections.case_visits).
    event_handlers=(("case.assign_survey", "inspections.case_visits:on_visit_assigned"),
                    ("case.assign_reinspection", "inspections.case_visits:on_visit_assigned"),
                    ("case.record_survey", "inspections.case_visits:on_visit_recorded"),
                    ("case.record_reinspection", "inspections.case_visits:on_visit_recorded"),
                    ("task.submit", "inspections.case_visits:on_task_submitted"),
                    # Photos a device uploaded before it pushed their record (`media.linking`).
                    ("task.created", "media.linking:on_task_created"),
                    ("finding.reported", "media.linking:on_finding_reported"),
                    ("reading.recorded", "media.linking:on_reading_recorded"),
                    ("reading.corrected", "media.linking:on_reading_recorded")),
    # Field work's events reach those who plan the work (dispatchers, supervisors) on the console's
    # stream; an inspector sees only their own tasks (through sync), never a colleague's in a feed.
    # Quality grades are the auditors' (the sample itself is unannounced: it emits nothing).
    event_visibility=(("field_task", TASKS_PLAN), ("finding", TASKS_PLAN), ("meter_reading", TASKS_PLAN),
                      ("reading_book", TASKS_PLAN), ("inspection_plan", TASKS_PLAN),
                      ("quality_audit", TASKS_AUDIT)),
    # The default checklist templates, seeded by a migration; supervisors publish new versions.
    reference_tables=("checklist_templates", "checklist_versions"),
    # Photos of tasks, findings and readings (`media`), by the uuid the device gave the record.
    evidence_links=("inspections.evidence_links:TASK_LINK", "inspections.evidence_links:FINDING_LINK",
                    "inspections.evidence_links:READING_LINK"),
)
