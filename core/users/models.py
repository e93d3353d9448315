"""User accounts and qualifications (certificates that gate field work in later issues)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Enum, ForeignKey, Integer, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base
from core.permissions import Role


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=20))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Carried in every token as `ver`; bumping it (disable, role or password change) kills every
    # token issued before, on the very next request.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Where this user works (set by an administrator): the console's event stream sends them only
    # events located inside it. None = no limit.
    work_area: Mapped[Any | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False),
                                                  default=None)

    qualifications: Mapped[list[Qualification]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Qualification.id"
    )


class Qualification(Base):
    """A certificate such as 'substation entry' or 'live-line work', for a voltage class, until a date."""

    __tablename__ = "user_qualifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    certificate_type: Mapped[str] = mapped_column(String(100))
    certificate_number: Mapped[str] = mapped_column(String(100), default="")
    max_voltage_kv: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    valid_until: Mapped[date] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="qualifications")

    def is_valid_on(self, day: date) -> bool:
        return day <= self.valid_until


class RevokedToken(Base):
    """A token signed out before it expired (by its `jti`). Kept until the token would have expired;
    held in the database, not only in Redis, so a revoked token stays revoked when Redis is down."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PersonalAccessToken(Base):
    """A long-lived credential a GIS client (GDAL, QGIS) stores instead of a password: it cannot do an
    OAuth password flow. Only the SHA-256 of the secret is kept (the secret is 256 random bits, so a
    fast hash is as good as a slow one and costs nothing per request); `prefix` lets its owner tell
    tokens apart. A token acts with its owner's current role; revoked rows stay for the record."""

    __tablename__ = "personal_access_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(20))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
