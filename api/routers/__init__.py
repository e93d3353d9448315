"""The API's own routers (sign-in, health, users, audit log); each domain's routers are mounted
from its declaration (`core.registry.Domain.routers`) by the app factory. Each route declares its
own permission."""

from fastapi import APIRouter

from api.routers import audit, auth, events, health, tokens, users, webhooks


def core_router() -> APIRouter:
    router = APIRouter()
    for module in (auth, health, users, tokens, audit, events, webhooks):
        router.include_router(module.router)
    return router
