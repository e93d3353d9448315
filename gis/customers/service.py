"""Customer-specific rules on top of the generic layer service: who may see contact details, and
a record of who saw them (DOMAIN.md section 6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.permissions import Permission, has_permission
from gis.customers.models import Customer
from gis.customers.privacy import SQL_MASK_PHONE, mask_phone


def _log_disclosure(db: Session, actor: Actor, account_numbers: list[str]) -> None:
    if account_numbers:
        audit_service.record(db=db, actor=actor, action="customer.contact_view", entity_type="customer",
                             entity_id=account_numbers[0] if len(account_numbers) == 1 else "many", before=None,
                             after={"account_numbers": account_numbers})


def apply_contact_privacy(*, db: Session, actor: Actor, customers: list[dict[str, Any]]) -> None:
    """Mask phone numbers for roles that do not need them; log every unmasked disclosure."""
    if not customers:
        return
    if not has_permission(actor.role, Permission.customers_read_contact):
        for props in customers:
            props["contact_phone"] = mask_phone(props.get("contact_phone"))
        return
    _log_disclosure(db, actor, [p["account_number"] for p in customers if p.get("contact_phone")])


def contact_masks(actor: Actor) -> dict[str, str]:
    """For lists the database writes: the SQL function masking each field this actor may not see."""
    return {} if has_permission(actor.role, Permission.customers_read_contact) else {"contact_phone": SQL_MASK_PHONE}


def log_listed_disclosure(db: Session, actor: Actor, customer_ids: list[int]) -> None:
    """Log the accounts whose phone numbers a list showed in full (nothing if they were masked)."""
    if not customer_ids or contact_masks(actor):
        return
    # One array parameter (`= ANY`), not an IN list of a page's thousand parameters to render and parse.
    ids = bindparam("customer_ids", customer_ids, type_=ARRAY(BigInteger))
    shown = db.scalars(select(Customer.account_number).where(Customer.id == any_(ids),
                                                             Customer.contact_phone.is_not(None),
                                                             Customer.contact_phone != "")
                       .order_by(Customer.id))
    _log_disclosure(db, actor, list(shown))
