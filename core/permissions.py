"""Roles and permissions: the one mechanism every endpoint and service uses to decide who may act.

Endpoints declare a `Permission`; roles grant sets of permissions. Adding a domain later means adding
permissions here and granting them, never checking role names in handlers.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    dispatcher = "dispatcher"
    inspector = "inspector"
    approver = "approver"
    auditor = "auditor"


class Permission(StrEnum):
    network_read = "network:read"
    network_write = "network:write"
    customers_read = "customers:read"
    customers_read_contact = "customers:read_contact"
    customers_write = "customers:write"
    imports_run = "imports:run"
    audit_read = "audit:read"
    users_manage = "users:manage"
    health_read = "health:read"


_READ_ONLY = {
    Permission.network_read,
    Permission.customers_read,
    Permission.health_read,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    # Dispatchers run the network model and call customers about outages, so they see phone numbers.
    Role.dispatcher: frozenset(
        _READ_ONLY
        | {Permission.network_write, Permission.customers_write, Permission.customers_read_contact,
           Permission.imports_run}
    ),
    # Inspectors visit premises: they need the contact number on site but change no master data.
    Role.inspector: frozenset(_READ_ONLY | {Permission.customers_read_contact}),
    # Approval officers decide on requests; the applicant's contact comes with the request, not here.
    Role.approver: frozenset(_READ_ONLY),
    # Auditors read everything, including the audit log, and change nothing. Contact numbers stay masked.
    Role.auditor: frozenset(_READ_ONLY | {Permission.audit_read}),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
