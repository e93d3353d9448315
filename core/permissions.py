"""Roles and permissions: the one mechanism every endpoint and service uses to decide who may act.

Roles are the utility's job titles (DOMAIN.md §1) and belong to core. Permissions belong to the
domain whose work they guard: each domain declares its own in its `permissions.py`, naming the
roles granted each and why, and lists them in its `domain.py`. Administrators hold every
permission. Handlers and services check a `Permission`, never a role name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    dispatcher = "dispatcher"
    # Reviews submitted field work (second level of quality control, DOMAIN.md §5).
    supervisor = "supervisor"
    inspector = "inspector"
    approver = "approver"
    auditor = "auditor"


EVERY_ROLE = frozenset(Role)
ADMINISTRATORS_ONLY: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Permission:
    """One thing a role may do, such as `cases:decide`, and the roles granted it besides
    administrators. `code` is what error messages and the documentation show."""

    code: str
    granted_to: frozenset[Role]

    def __str__(self) -> str:
        return self.code


def has_permission(role: Role, permission: Permission) -> bool:
    return role is Role.admin or role in permission.granted_to


# Core's own permissions: accounts, the audit log and the health of the services.
USERS_MANAGE = Permission("users:manage", ADMINISTRATORS_ONLY)
# Auditors read everything, including the audit log, and change nothing.
AUDIT_READ = Permission("audit:read", frozenset({Role.auditor}))
HEALTH_READ = Permission("health:read", EVERY_ROLE)
# Server versions, worker counts, why a component is down: they tell an attacker what to try.
HEALTH_DETAILS = Permission("health:details", ADMINISTRATORS_ONLY)
# The console's live event stream; what each role then receives is decided per entity type by the
# domains' `Domain.event_visibility` and by the user's work area (core.events).
EVENTS_READ = Permission("events:read", EVERY_ROLE)
# Webhooks send events (with locations) to other systems: whoever configures them decides what leaves.
WEBHOOKS_MANAGE = Permission("webhooks:manage", ADMINISTRATORS_ONLY)
CORE_PERMISSIONS = (USERS_MANAGE, AUDIT_READ, HEALTH_READ, HEALTH_DETAILS, EVENTS_READ, WEBHOOKS_MANAGE)
