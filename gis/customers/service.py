"""Customer-specific rules on top of the generic layer service: who may see contact details, and
a record of who saw them (DOMAIN.md section 6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.permissions import has_permission
from gis.customers.permissions import CUSTOMERS_READ_CONTACT
from gis.customers.privacy import SQL_MASK_PHONE, mask_phone
from gis.layers.spec import Disclosure


def _log_disclosure(db: Session, actor: Actor, account_numbers: list[str]) -> None:
    if account_numbers:
        audit_service.record(db=db, actor=actor, action="customer.contact_view", entity_type="customer",
                             entity_id=account_numbers[0] if len(account_numbers) == 1 else "many", before=None,
                             after={"account_numbers": account_numbers})


def apply_contact_privacy(*, db: Session, actor: Actor, customers: list[dict[str, Any]]) -> None:
    """Mask phone numbers for roles that do not need them; log every unmasked disclosure."""
    if not customers:
        return
    if not has_permission(actor.role, CUSTOMERS_READ_CONTACT):
        for props in customers:
            props["contact_phone"] = mask_phone(props.get("contact_phone"))
        return
    _log_disclosure(db, actor, [p["account_number"] for p in customers if p.get("contact_phone")])


def contact_masks(actor: Actor) -> dict[str, str]:
    """For lists the database writes: the SQL function masking each field this actor may not see."""
    return {} if has_permission(actor.role, CUSTOMERS_READ_CONTACT) else {"contact_phone": SQL_MASK_PHONE}


def contact_disclosure(actor: Actor) -> Disclosure | None:
    """For lists the database writes: the phone numbers this actor is shown in full, to be logged by
    account number (None when they are masked: nothing is disclosed)."""
    return None if contact_masks(actor) else Disclosure(field="contact_phone", key="account_number")


def log_listed_disclosure(db: Session, actor: Actor, account_numbers: list[str]) -> None:
    """Log the accounts whose phone numbers a list showed in full (found by `contact_disclosure`)."""
    _log_disclosure(db, actor, account_numbers)
