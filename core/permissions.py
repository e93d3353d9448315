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
    health_details = "health:details"  # server versions, worker counts, why a component is down: admins only
    zones_write = "zones:write"
    rule_sets_manage = "rule_sets:manage"
    screenings_run = "screenings:run"
    screenings_read = "screenings:read"
    requests_read = "requests:read"
    requests_read_contact = "requests:read_contact"
    requests_read_id_number = "requests:read_id_number"
    requests_register = "requests:register"
    requests_assign = "requests:assign"
    requests_survey = "requests:survey"
    requests_decide = "requests:decide"
    encroachments_report = "encroachments:report"
    calendars_manage = "calendars:manage"


_READ_ONLY = {
    Permission.network_read,
    Permission.customers_read,
    Permission.health_read,
    Permission.screenings_read,
    Permission.requests_read,
}

# The `requests:read_*` permissions say which fields of a case a role may ever see in full; whether
# a person sees them on a given case is need to know, decided per case in `cases.privacy`.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    # Dispatchers run the network model and call customers about outages, so they see phone numbers.
    Role.dispatcher: frozenset(
        _READ_ONLY
        | {Permission.network_write, Permission.customers_write, Permission.customers_read_contact,
           Permission.imports_run, Permission.zones_write, Permission.screenings_run,
           Permission.requests_read_contact, Permission.requests_assign, Permission.encroachments_report}
    ),
    # Inspectors visit premises: they need the contact number on site but change no master data.
    # They survey sites and report construction they find in a zone; they never decide.
    Role.inspector: frozenset(_READ_ONLY | {Permission.customers_read_contact, Permission.screenings_run,
                                            Permission.requests_read_contact, Permission.requests_survey,
                                            Permission.encroachments_report}),
    # Approval officers register and decide requests; the applicant's contact comes with the request,
    # and they alone identify the applicant by ID number (the decision and supply agreement name them).
    Role.approver: frozenset(_READ_ONLY | {Permission.screenings_run, Permission.requests_read_contact,
                                           Permission.requests_read_id_number,
                                           Permission.requests_register, Permission.requests_assign,
                                           Permission.requests_decide}),
    # Auditors read everything, including the audit log, and change nothing. Contact numbers stay masked.
    Role.auditor: frozenset(_READ_ONLY | {Permission.audit_read}),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
