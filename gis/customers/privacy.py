"""Personal data shown only as far as a role needs it (DOMAIN.md section 6)."""

from __future__ import annotations

from typing import Any

from core.permissions import Role, has_permission
from gis.customers.permissions import CUSTOMERS_READ_CONTACT

# The same rule as `mask_phone`, as a database function (migration cc2464aa8efb), for lists whose
# JSON the database writes; tests check both give the same result.
SQL_MASK_PHONE = "gw_mask_phone"


def mask_phone(phone: str | None) -> str | None:
    """Keep the first two and last two digits, star the rest: '+49 30 5551234' -> '+49 ** *****34'.

    Enough to recognise a number the customer reads out on the phone, not enough to call it.
    """
    if not phone:
        return phone
    digit_positions = [i for i, ch in enumerate(phone) if ch.isdigit()]
    keep = set(digit_positions[:2] + digit_positions[-2:]) if len(digit_positions) > 6 else set(digit_positions[-2:])
    return "".join(ch if (not ch.isdigit() or i in keep) else "*" for i, ch in enumerate(phone))


def redact_audit_snapshot(snapshot: dict[str, Any], role: Role) -> None:
    """A customer's phone number in an audit record, masked for a reader whose role may not see it."""
    if snapshot.get("contact_phone") and not has_permission(role, CUSTOMERS_READ_CONTACT):
        snapshot["contact_phone"] = mask_phone(snapshot["contact_phone"])
