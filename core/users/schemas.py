"""What the users API reads and writes.

Input models are checked by the rules the columns hold (lengths of `String(n)`, the two decimals of
`Numeric(7, 2)`), so nothing is accepted that the database would store differently. Output models check
nothing: a row already stored must always be listable, whatever rules were in force when it was written.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from core.bounds import IsoDate
from core.permissions import Role

# Printable text: control characters (NUL above all, which PostgreSQL cannot store) are refused.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
PlainText = Annotated[str, Field(pattern=_PRINTABLE)]


class QualificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate_type: PlainText = Field(min_length=1, max_length=100)
    certificate_number: PlainText = Field(default="", max_length=100)
    # Numeric(7, 2): at most two decimals, so 0.001 is refused rather than stored as 0.00.
    max_voltage_kv: Decimal = Field(gt=0, le=1000, max_digits=7, decimal_places=2,
                                    description="Highest voltage class the certificate covers, kV (two decimals)")
    valid_until: IsoDate


class QualificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    certificate_type: str
    certificate_number: str
    max_voltage_kv: float
    valid_until: date


# The password policy, in one place: long enough to mean something, short enough that hashing what an
# anonymous caller sends stays cheap (argon2 over megabytes would be work anyone could make us do).
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 200


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    full_name: PlainText = Field(default="", max_length=200)
    role: Role
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)
    qualifications: list[QualificationIn] = []


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: Role
    is_active: bool
    qualifications: list[QualificationOut]


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old_password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)
    new_password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


# No installation's maximum lifetime may exceed this (core.settings.AuthSettings.pat_max_days).
PAT_DAYS_CEILING = 36_500


class PersonalTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(min_length=1, max_length=100, description="What the token is for, e.g. 'QGIS laptop'")
    expires_in_days: int | None = Field(default=None, ge=1, le=PAT_DAYS_CEILING,
                                        description="Lifetime in days (default GW_AUTH_PAT_DEFAULT_DAYS, at most "
                                                    "GW_AUTH_PAT_MAX_DAYS)")


class PersonalTokenOut(BaseModel):
    """A token as its owner's list shows it: never the secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str = Field(description="The secret's first characters, to tell tokens apart")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most every GW_AUTH_PAT_LAST_USED_EVERY_S")
    revoked_at: datetime | None


class PersonalTokenCreated(PersonalTokenOut):
    token: str = Field(description="The secret, shown this once: send it as 'Authorization: Bearer <token>' "
                                   "or as the HTTP Basic password with your username")
