"""The audit log at /audit: who changed what, when, with before and after (auditors, administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.dependencies import DbSession, InstalledDomains, Page, next_cursor, require
from core.audit import service as audit_service
from core.audit.schemas import AuditPage
from core.bounds import IsoDateTime
from core.context import Actor
from core.permissions import AUDIT_READ

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def search_audit_log(
    db: DbSession,
    reader: Annotated[Actor, Depends(require(AUDIT_READ))],
    domains: InstalledDomains,
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
    items = audit_service.read_log(db=db, actor=reader, query=query, redactions=domains.audit_redactions())
    return AuditPage(items=items, next_cursor=next_cursor(items[-1].id if items else None,
                                                          returned=len(items), limit=page.limit))
