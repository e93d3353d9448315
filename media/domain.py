"""Photo evidence: uploads straight to object storage, verification, custody (issue 11)."""

from core.registry import Domain
from core.settings import Settings
from inspections.permissions import TASKS_PLAN
from media.permissions import EVIDENCE_PERMISSIONS

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    # Verification messages lost with a worker or a queue outage; uploads never completed; retention.
    return {"relay-evidence-verification": {"task": "media.relay", "schedule": float(settings.worker.relay_interval_s)},
            "clean-up-abandoned-uploads": {"task": "media.cleanup", "schedule": HOUR_S},
            "apply-evidence-retention": {"task": "media.retention", "schedule": DAY_S}}


DOMAIN = Domain(
    name="media",
    models=("media.models",),
    routers=("api.routers.evidence:router", "api.routers.evidence_custody:router"),
    tasks=("media.tasks",),
    beat=beat,
    # A worker that starts re-sends the verifications a lost worker left pending.
    on_worker_ready=("media.relay",),
    permissions=EVIDENCE_PERMISSIONS,
    # Verification outcomes reach those who plan the work (dispatchers, supervisors).
    event_visibility=(("evidence", TASKS_PLAN),),
)
