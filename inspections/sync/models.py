"""Tables of devices, pull and positions.

`devices`: a phone or tablet registered to a user; its tokens carry its id (`dev` claim) and stop
working the moment it is revoked. `device_sync_items` is the server's shadow of what each device
holds (entity, fingerprint); `device_sync_changes` is the list of upserts and deletions one pull
generation sends, page by page, until the device acknowledges them by asking for the next page.
`gps_pings` is the track of each inspector, with the device's clock and how wrong it was.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class Device(Base):
    """A device registered to a user. `client_device_id` is the id the app chose (stable across
    reinstalls of the same app); a user registers it once while it is not revoked."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    client_device_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), default="")
    platform: Mapped[str] = mapped_column(String(40), default="")
    app_version: Mapped[str] = mapped_column(String(40), default="")
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The pull generation the device is in (0: it has never pulled); see inspections.sync.pull.
    pull_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("uq_devices_user_client_device_active", "user_id", "client_device_id", unique=True,
              postgresql_where=text("revoked_at IS NULL")),
    )


class DeviceSyncItem(Base):
    """One record a device holds, as the server last sent it (its fingerprint: the record's version,
    or a digest for derived data that has none)."""

    __tablename__ = "device_sync_items"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    entity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))


class DeviceSyncChange(Base):
    """One change of a pull generation, at its position `seq` (1, 2, ...): an upsert (`fingerprint`
    set) or a deletion (`fingerprint` NULL). Kept until the device asks for a page after it, so a lost
    page is sent again with the same cursor."""

    __tablename__ = "device_sync_changes"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str | None] = mapped_column(String(64))


class GpsPing(Base):
    """Where an inspector's device was, by its own clock and the server's. `skew_s` is how far the
    device clock was ahead (+) or behind (-) when it sent the ping; beyond the threshold the ping is
    flagged (its device time is not to be trusted)."""

    __tablename__ = "gps_pings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    position = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    accuracy_m: Mapped[float] = mapped_column(Float)
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    server_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    skew_s: Mapped[float] = mapped_column(Float)
    skew_flagged: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint("accuracy_m >= 0", name="accuracy_non_negative"),
        # The latest position per user and a user's track both read this index.
        Index("ix_gps_pings_user_server_time", "user_id", "server_time"),
    )
