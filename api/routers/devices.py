"""Devices at /devices: register a phone or tablet (its token for sync), list, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from api.dependencies import AppSettings, Cache, DbSession, Now, SignedInClaims, require
from core.context import Actor
from inspections.sync import devices
from inspections.sync.permissions import DEVICES_REGISTER
from inspections.sync.schemas import DeviceIn, DeviceOut, DeviceRegistered

router = APIRouter(prefix="/devices", tags=["devices"])

DeviceUser = Annotated[Actor, Depends(require(DEVICES_REGISTER))]
DeviceId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post("", response_model=DeviceRegistered, status_code=status.HTTP_201_CREATED,
             summary="Register this device and get its token for sync")
def register_device(body: DeviceIn, db: DbSession, actor: DeviceUser, settings: AppSettings, now: Now,
                    response: Response, _signed_in: SignedInClaims) -> DeviceRegistered:
    """The same app id registered again answers 200 with the same device and a fresh token. A personal
    access token may not register one (403): it would mint a credential that outlives it."""
    result = devices.register(db=db, actor=actor, settings=settings, now=now, spec=devices.DeviceSpec(
        client_device_id=body.client_device_id, name=body.name, platform=body.platform, app_version=body.app_version))
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return DeviceRegistered(device=DeviceOut.model_validate(result.device), access_token=result.access_token,
                            expires_in=result.expires_in)


@router.get("", response_model=list[DeviceOut], summary="The caller's devices (supervisors and admins: all)")
def list_devices(db: DbSession, actor: DeviceUser) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d) for d in devices.list_devices(db=db, actor=actor)]


@router.post("/{device_id}/revoke", response_model=DeviceOut,
             summary="Revoke a device: every token it holds stops working at once")
def revoke_device(device_id: DeviceId, db: DbSession, cache: Cache, actor: DeviceUser, now: Now) -> DeviceOut:
    return DeviceOut.model_validate(devices.revoke(db=db, actor=actor, cache=cache, now=now, device_id=device_id))
