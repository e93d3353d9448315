"""How references to records are written: shared by the domains' link providers."""

from __future__ import annotations

import uuid


def uuid_ref(ref: str) -> str:
    """A device-made record's reference: its uuid, in canonical lower-case form (ValueError if not one)."""
    return str(uuid.UUID(ref.strip()))


def id_ref(ref: str) -> str:
    """A server-made record's reference: its positive decimal id (ValueError if not one)."""
    value = int(ref.strip())
    if value <= 0 or value >= 2**63:
        raise ValueError(f"{ref!r} is not a record id")
    return str(value)
