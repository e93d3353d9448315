"""Every router mounted in one place; each declares its own permission per endpoint."""

from fastapi import APIRouter

from api.routers import (audit, auth, calendars, cases, customers, health, imports, network, rule_sets, screenings, trace, users,
                         zones)

router = APIRouter()
router.include_router(auth.router)
router.include_router(health.router)
router.include_router(users.router)
router.include_router(audit.router)
router.include_router(network.router)
router.include_router(trace.router)
router.include_router(customers.router)
router.include_router(imports.router)
router.include_router(zones.router)
router.include_router(rule_sets.router)
router.include_router(screenings.router)
router.include_router(cases.router)
router.include_router(calendars.router)
