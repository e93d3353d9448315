from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.bounds import IsoDate
from core.permissions import Role


class QualificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate_type: str = Field(min_length=1, max_length=100)
    certificate_number: str = Field(default="", max_length=100)
    max_voltage_kv: float = Field(gt=0, le=1000)
    valid_until: IsoDate


class QualificationOut(QualificationIn):
    model_config = ConfigDict(from_attributes=True)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    full_name: str = Field(default="", max_length=200)
    role: Role
    password: str = Field(min_length=8, max_length=200)
    qualifications: list[QualificationIn] = []


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: Role
    is_active: bool
    qualifications: list[QualificationOut]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
