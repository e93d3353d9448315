"""Customers as a map layer, with their contact privacy, registered in the one catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.context import Actor
from gis.customers import schemas, service
from gis.customers.models import Customer
from gis.customers.permissions import CUSTOMERS_READ, CUSTOMERS_WRITE
from gis.layers.spec import POINT, LayerSpec, Privacy


def _apply_contact_privacy(db: Session, actor: Actor, customers: list[dict[str, Any]]) -> None:
    service.apply_contact_privacy(db=db, actor=actor, customers=customers)


CONTACT_PRIVACY = Privacy(apply=_apply_contact_privacy, masks_for=service.contact_masks,
                          disclosure_for=service.contact_disclosure, log_disclosure=service.log_listed_disclosure)

CUSTOMERS = LayerSpec(
    name="customers", title="Customers (supply points)", entity_type="customer", model=Customer,
    props=schemas.CustomerProps, query=schemas.CustomerQuery, geometry_types=POINT,
    read_permission=CUSTOMERS_READ, write_permission=CUSTOMERS_WRITE,
    read_only=("node_id",), privacy=CONTACT_PRIVACY)
