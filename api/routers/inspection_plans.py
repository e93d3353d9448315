"""Inspection plans at /inspection-plans: the patrol cycles per asset class and voltage band that the
daily plan job turns into tasks. Administrators read and change them (If-Match); thin, one call to
`inspections.plans` per operation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.dependencies import DbSession, ExpectedVersion, require
from api.http import etag
from core.context import Actor
from inspections import plans
from inspections.permissions import PLANS_MANAGE
from inspections.plan_schemas import PlanIn, PlanOut

router = APIRouter(prefix="/inspection-plans", tags=["inspection plans"])
Manager = Annotated[Actor, Depends(require(PLANS_MANAGE))]


@router.get("", response_model=list[PlanOut], summary="Every inspection plan, by code")
def list_plans(db: DbSession, _actor: Manager) -> list[PlanOut]:
    return plans.list_plans(db=db)


@router.get("/{code}", response_model=PlanOut, summary="One inspection plan (its version is the ETag)")
def get_plan(code: str, db: DbSession, _actor: Manager, response: Response) -> PlanOut:
    plan = plans.get_plan(db=db, code=code)
    response.headers["ETag"] = etag(plan.version)
    return plan


@router.put("/{code}", response_model=PlanOut,
            summary="Change an inspection plan (If-Match); the next plan run uses it, created tasks keep theirs")
def update_plan(code: str, body: PlanIn, db: DbSession, actor: Manager, expected_version: ExpectedVersion,
                response: Response) -> PlanOut:
    plan = plans.update_plan(db=db, actor=actor, code=code, expected_version=expected_version, plan_in=body)
    response.headers["ETag"] = etag(plan.version)
    return plan
