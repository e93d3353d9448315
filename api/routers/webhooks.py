"""Webhook subscriptions (administrators): create (the signing secret is in that answer only),
list, disable / enable, delete, the deliveries of one, and a dead delivery sent again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.dependencies import AppSettings, DbSession, InputCrs, Now, Page, next_cursor, require
from core.context import Actor
from core.events import webhooks
from core.events.models import DeliveryState
from core.events.schemas import DeliveryOut, DeliveryPage, WebhookCreated, WebhookIn, WebhookOut
from core.events.settings import event_settings
from core.permissions import WEBHOOKS_MANAGE
from gis.geo.geometry import GeometryLimits, parse_geometry

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Admin = Annotated[Actor, Depends(require(WEBHOOKS_MANAGE))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})


@router.post("", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookIn, db: DbSession, actor: Admin, crs: InputCrs, settings: AppSettings) -> WebhookCreated:
    """Events whose type starts with one of `event_types` (all when empty), inside `area` if given,
    are POSTed to `url`, signed: `X-GridWarden-Signature: sha256=HMAC(secret, timestamp + "." + body)`."""
    area = None if body.area is None else parse_geometry(
        body.area, epsg=crs, allowed_types=AREA_TYPES, field="area",
        limits=GeometryLimits(max_vertices=settings.api.max_geometry_vertices))
    created = webhooks.create(db=db, actor=actor, settings=event_settings(settings), spec=webhooks.SubscriptionSpec(
        url=body.url, event_types=tuple(body.event_types), area=area, description=body.description))
    return WebhookCreated.model_validate(created)


@router.get("", response_model=list[WebhookOut])
def list_webhooks(db: DbSession, _actor: Admin) -> list[WebhookOut]:
    return [WebhookOut.model_validate(s) for s in webhooks.list_subscriptions(db=db)]


@router.post("/{webhook_id}/disable", response_model=WebhookOut)
def disable_webhook(webhook_id: Id, db: DbSession, actor: Admin) -> WebhookOut:
    """No new deliveries; those already pending still go out."""
    return WebhookOut.model_validate(webhooks.set_active(db=db, actor=actor, subscription_id=webhook_id, active=False))


@router.post("/{webhook_id}/enable", response_model=WebhookOut)
def enable_webhook(webhook_id: Id, db: DbSession, actor: Admin) -> WebhookOut:
    return WebhookOut.model_validate(webhooks.set_active(db=db, actor=actor, subscription_id=webhook_id, active=True))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: Id, db: DbSession, actor: Admin, now: Now) -> None:
    """The subscription's secret is wiped and its pending deliveries given up; its history stays."""
    webhooks.delete(db=db, actor=actor, now=now, subscription_id=webhook_id)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(webhook_id: Id, db: DbSession, _actor: Admin, page: Page,
                    state: Annotated[DeliveryState | None, Query(description="e.g. `dead`")] = None) -> DeliveryPage:
    found = webhooks.deliveries(db=db, subscription_id=webhook_id, state=state, after_id=page.after_id,
                                limit=page.limit)
    items = [DeliveryOut.model_validate(d) for d in found]
    return DeliveryPage(items=items, next_cursor=next_cursor(items[-1].id if items else None,
                                                             returned=len(items), limit=page.limit))


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", response_model=DeliveryOut)
def retry_delivery(webhook_id: Id, delivery_id: Id, db: DbSession, actor: Admin, now: Now) -> DeliveryOut:
    """Send a dead delivery again, from a first attempt (the next delivery run picks it up)."""
    return DeliveryOut.model_validate(webhooks.retry(db=db, actor=actor, now=now, subscription_id=webhook_id,
                                                     delivery_id=delivery_id))
