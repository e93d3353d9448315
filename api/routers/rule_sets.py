"""Rule sets at /rule-sets: listed for everyone who screens, loaded by administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response, status

from api.dependencies import DbSession, require
from core.context import Actor
from gis.network.permissions import NETWORK_READ
from gis.rule_sets import service
from gis.rule_sets.models import RuleSet
from gis.rule_sets.permissions import RULE_SETS_MANAGE
from gis.zones import service as zone_service

router = APIRouter(prefix="/rule-sets", tags=["rule sets"])
Reader = Annotated[Actor, Depends(require(NETWORK_READ))]
Manager = Annotated[Actor, Depends(require(RULE_SETS_MANAGE))]


def _summary(row: RuleSet) -> dict[str, Any]:
    return {"id": row.id, "code": row.code, "version": row.version, "jurisdiction": row.jurisdiction,
            "title": row.title, "effective_date": row.effective_date.isoformat(), "is_default": row.is_default,
            "sha256": row.sha256, "loaded_at": row.loaded_at.isoformat() if row.loaded_at else None,
            "loaded_by": row.loaded_by}


@router.get("", summary="Loaded rule sets (all versions)")
def list_rule_sets(db: DbSession, _actor: Reader) -> list[dict[str, Any]]:
    return [_summary(row) for row in service.list_rule_sets(db=db)]


@router.get("/{code}/{version}", summary="One rule-set version with all its rules and sources")
def get_rule_set(code: str, version: str, db: DbSession, _actor: Reader) -> dict[str, Any]:
    row = service.get_rule_set_row(db=db, code=code, version=version)
    return {**_summary(row), "definition": row.definition}


@router.post("", status_code=status.HTTP_201_CREATED, summary="Load a rule set (immutable per code and version)",
             responses={200: {"description": "This code and version were loaded before, with the same content"}})
def load_rule_set(db: DbSession, actor: Manager, response: Response,
                  content: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    row, created = zone_service.load_rule_set(db=db, actor=actor, content=content)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _summary(row)
