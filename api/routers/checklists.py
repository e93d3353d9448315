"""Checklist templates at /checklists: supervisors create templates and publish new versions (a
version is never edited); everyone who reads tasks reads them. Thin: one call into
`inspections.templates` per operation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from api.dependencies import DbSession, require
from core.context import Actor
from inspections import templates
from inspections.checklist_schemas import ChecklistIn, ChecklistOut, ChecklistVersionIn
from inspections.permissions import CHECKLISTS_MANAGE, TASKS_READ

router = APIRouter(prefix="/checklists", tags=["field work"])
Reader = Annotated[Actor, Depends(require(TASKS_READ))]
Manager = Annotated[Actor, Depends(require(CHECKLISTS_MANAGE))]
Code = Annotated[str, Path(min_length=1, max_length=60)]


@router.post("", response_model=ChecklistOut, status_code=status.HTTP_201_CREATED,
             summary="Create a checklist template with its first version")
def create_template(body: ChecklistIn, db: DbSession, actor: Manager) -> ChecklistOut:
    return ChecklistOut.of(templates.create_template(db=db, actor=actor, code=body.code, name=body.name,
                                                     task_type=body.task_type, items=body.items))


@router.post("/{code}/versions", response_model=ChecklistOut, status_code=status.HTTP_201_CREATED,
             summary="Publish the template's next version (tasks already created keep theirs)")
def publish_version(code: Code, body: ChecklistVersionIn, db: DbSession, actor: Manager) -> ChecklistOut:
    return ChecklistOut.of(templates.publish_version(db=db, actor=actor, code=code, items=body.items))


@router.get("", response_model=list[ChecklistOut], summary="Every template at its latest version")
def list_templates(db: DbSession, _actor: Reader) -> list[ChecklistOut]:
    return [ChecklistOut.of(version) for version in templates.latest_versions(db=db)]


@router.get("/{code}/versions/{version}", response_model=ChecklistOut, summary="One version of a template")
def get_version(code: Code, version: Annotated[int, Path(ge=1, le=2**31 - 1)], db: DbSession,
                _actor: Reader) -> ChecklistOut:
    return ChecklistOut.of(templates.get_version(db=db, code=code, version=version))
