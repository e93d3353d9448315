"""Every router mounted in one place; each declares its own permission per endpoint."""

from fastapi import APIRouter

from api.routers import (
    audit,
    auth,
    calendars,
    cases,
    customers,
    health,
    imports,
    network,
    rule_sets,
    screenings,
    trace,
    users,
    zones,
)

router = APIRouter()
for _module in (auth, health, users, audit, network, trace, customers, imports, zones, rule_sets, screenings, cases,
                calendars):
    router.include_router(_module.router)
