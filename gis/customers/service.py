"""Customer-specific rules on top of the generic layer service: who may see contact details, and
a record of who saw them (DOMAIN.md section 6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.permissions import Permission, has_permission
from gis.customers.privacy import mask_phone


def apply_contact_privacy(*, db: Session, actor: Actor, customers: list[dict[str, Any]]) -> None:
    """Mask phone numbers for roles that do not need them; log every unmasked disclosure."""
    if not customers:
        return
    if not has_permission(actor.role, Permission.customers_read_contact):
        for props in customers:
            props["contact_phone"] = mask_phone(props.get("contact_phone"))
        return
    disclosed = [p["account_number"] for p in customers if p.get("contact_phone")]
    if disclosed:
        audit_service.record(db=db, actor=actor, action="customer.contact_view", entity_type="customer",
                             entity_id=disclosed[0] if len(disclosed) == 1 else "many", before=None,
                             after={"account_numbers": disclosed})
