"""Photo evidence: uploads straight to object storage, verification, custody (issue 11)."""

from core.registry import Domain
from media.permissions import EVIDENCE_PERMISSIONS

DOMAIN = Domain(
    name="media",
    models=("media.models",),
    routers=("api.routers.evidence:router",),
    permissions=EVIDENCE_PERMISSIONS,
)
