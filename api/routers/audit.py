from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.dependencies import DbSession, Page, next_cursor, require
from core.audit import service as audit_service
from core.audit.schemas import AuditPage, AuditRecordOut
from core.bounds import IsoDateTime
from core.context import Actor
from core.permissions import AUDIT_READ, has_permission
from gis.customers.permissions import CUSTOMERS_READ_CONTACT
from gis.customers.privacy import mask_phone

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def search_audit_log(
    db: DbSession,
    _actor: Annotated[Actor, Depends(require(AUDIT_READ))],
    page: Page,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: Annotated[str | None, Query(description="Username of who made the change")] = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
) -> AuditPage:
    """Newest first. Filter by entity, actor and time; follow `next_cursor` for older records."""
    query = audit_service.AuditQuery(entity_type=entity_type, entity_id=entity_id, actor_name=actor,
                                     since=since, until=until, after_id=page.after_id, limit=page.limit)
    records = audit_service.search(db=db, query=query)
    items = [AuditRecordOut.model_validate(r) for r in records]
    if not has_permission(_actor.role, CUSTOMERS_READ_CONTACT):
        for item in items:
            _mask_personal_data(item)
    return AuditPage(items=items, next_cursor=next_cursor(records[-1].id if records else None,
                                                          returned=len(records), limit=page.limit))


def _mask_personal_data(item: AuditRecordOut) -> None:
    """History keeps the real values; readers whose role may not see contact details get them masked."""
    for snapshot in (item.before, item.after):
        if snapshot and snapshot.get("contact_phone"):
            snapshot["contact_phone"] = mask_phone(snapshot["contact_phone"])
