"""Checklist templates and their versions. A version is never edited: publishing makes the next
one, so a task done against version 2 keeps meaning what it meant (its answers validate against it).
Keyword-only functions, no HTTP, no commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, InvalidInput, NotFound
from inspections.checklists import validate_items
from inspections.models import ChecklistTemplate, ChecklistVersion
from inspections.workflow import TaskType

ENTITY = "checklist_template"


def _template(db: Session, code: str, *, for_update: bool = False) -> ChecklistTemplate:
    stmt = select(ChecklistTemplate).where(ChecklistTemplate.code == code)
    template = db.scalar(stmt.with_for_update() if for_update else stmt)
    if template is None:
        raise NotFound(f"No checklist template {code!r}.")
    return template


def _add_version(db: Session, *, actor: Actor, template: ChecklistTemplate, number: int, items: Any,
                 action: str) -> ChecklistVersion:
    version = ChecklistVersion(template_id=template.id, version=number, items=validate_items(items),
                               created_by=actor.username)
    db.add(version)
    db.flush()
    audit_service.record(db=db, actor=actor, action=f"checklist.{action}", entity_type=ENTITY,
                         entity_id=template.id, before=None,
                         after={"code": template.code, "version": number, "items": version.items})
    return version


def create_template(*, db: Session, actor: Actor, code: str, name: str, task_type: TaskType,
                    items: Any) -> ChecklistVersion:
    """A new template with its first version."""
    template = ChecklistTemplate(code=code, name=name, task_type=task_type.value)
    db.add(template)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as exc:
        raise Conflict(f"A checklist template {code!r} already exists; publish a new version of it.") from exc
    return _add_version(db, actor=actor, template=template, number=1, items=items, action="create")


def publish_version(*, db: Session, actor: Actor, code: str, items: Any) -> ChecklistVersion:
    """The template's next version (the template row is locked, so two publishers number in turn)."""
    template = _template(db, code, for_update=True)
    latest = db.scalar(select(func.max(ChecklistVersion.version)).where(ChecklistVersion.template_id == template.id))
    return _add_version(db, actor=actor, template=template, number=(latest or 0) + 1, items=items, action="publish")


def get_version(*, db: Session, code: str, version: int) -> ChecklistVersion:
    found = db.scalar(select(ChecklistVersion).join(ChecklistTemplate)
                      .where(ChecklistTemplate.code == code, ChecklistVersion.version == version))
    if found is None:
        raise NotFound(f"Checklist {code!r} has no version {version}.")
    return found


def latest_versions(*, db: Session) -> list[ChecklistVersion]:
    """The newest version of every template, by code."""
    newest = (select(ChecklistVersion.template_id, func.max(ChecklistVersion.version).label("version"))
              .group_by(ChecklistVersion.template_id).subquery())
    return list(db.scalars(select(ChecklistVersion).join(newest, (ChecklistVersion.template_id == newest.c.template_id)
                                                         & (ChecklistVersion.version == newest.c.version))
                           .join(ChecklistTemplate).order_by(ChecklistTemplate.code)))


def latest_version_of(*, db: Session, code: str, field: str = "checklist_code") -> ChecklistVersion:
    """The version a new task takes: the template's newest; an unknown code is the caller's input error."""
    found = db.scalar(select(ChecklistVersion).join(ChecklistTemplate).where(ChecklistTemplate.code == code)
                      .order_by(ChecklistVersion.version.desc()).limit(1))
    if found is None:
        raise InvalidInput(f"No checklist template {code!r}.", errors=[{"field": field, "message": "unknown"}])
    return found
