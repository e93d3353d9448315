"""Where each string an API client sends is stored: the walk behind the schema-versus-column test.

Every request body model reachable from the app's routes is visited (nested models included). A
string field is stored in the column of the same name in its schema's home table (a layer's
properties in the layer's table), in a column named in STORED_AS, or deliberately nowhere bounded
(NOT_BOUNDED_TEXT, with the reason). A new string field that is none of these fails the test until
someone says where it goes, so the class of "accepted, then too long for the column" stays closed.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import String

from gis.layers.catalogue import managed_layers
from gridwarden.domains import installed

metadata = installed().metadata()

LAYERS = managed_layers()

# Schema -> the table its fields are stored in under their own names.
HOME_TABLES: dict[str, str] = {
    **{layer.props.__name__: layer.model.__tablename__ for layer in LAYERS},  # type: ignore[attr-defined]
    "CaseIn": "cases", "EncroachmentIn": "cases", "UserCreate": "users", "QualificationIn": "user_qualifications",
    "ScreeningIn": "screenings", "ScreeningItemIn": "screenings", "ScreeningBatchIn": "screenings",
    "WebhookIn": "webhook_subscriptions",
    "TaskIn": "field_tasks", "TaskPatch": "field_tasks", "FindingIn": "findings", "ChecklistIn": "checklist_templates",
    "GradeIn": "quality_audits",
    "DeviceIn": "devices",
    "ReadingIn": "meter_readings", "RoundIn": "reading_rounds",
    "PushItemIn": "sync_mutations",
    "PlanIn": "inspection_plans",
    "PersonalTokenIn": "personal_access_tokens",
    "UploadIn": "evidence",
}

# Fields stored under another name ("Schema.field" -> "table.column").
STORED_AS: dict[str, str] = {
    "ActionIn.note": "audit_log.reason",
    "HandOverIn.reason": "audit_log.reason",
    "EncroachmentIn.responsible_party": "cases.applicant_name",
    "SimbenchImportIn.subnet": "substations.subnet",
    "TaskActionIn.reason": "audit_log.reason",
    "TaskIn.checklist_code": "checklist_templates.code",
    "BacklogResolveIn.note": "sync_backlog.resolution_note",
    "PlanIn.checklist_code": "checklist_templates.code",
    # A plan's qualifications (jsonb) are what a user's certificates are matched against.
    "QualificationNeeded.certificate_type": "user_qualifications.certificate_type",
    "UploadIn.content_type": "evidence.declared_type",
    "UploadIn.sha256": "evidence.declared_sha256",
    "LinkIn.kind": "evidence.link_kind",
    "LinkIn.ref": "evidence.link_ref",
    # A route plan's ad-hoc job is a published stop's job_ref (route_plans.request keeps it in jsonb too).
    "JobIn.ref": "route_stops.job_ref",
}

# Fields that never land in a bounded column, and why.
NOT_BOUNDED_TEXT: dict[str, str] = {
    "CaseIn.request_type": "one of a fixed catalogue (validated)",
    "CaseIn.description": "text column",
    "DeletionIn.reason": "text column (evidence.deletion_reason), at most 500 characters",
    "EncroachmentIn.description": "text column",
    "EncroachmentIn.activity": "catalogue name, kept in jsonb",
    "PlannedActivity.activity": "catalogue name, kept in jsonb",
    "ActionIn.findings": "site_visits.findings, a text column",
    "ActionIn.measures": "kept in jsonb (case_decisions.measures, site_visits.measures)",
    "ScreeningItemIn.activity": "one of the rule set's activities (validated)",
    "ScreeningIn.activity": "one of the rule set's activities (validated)",
    "ScreeningIn.rule_set": "a look-up key, not stored",
    "ScreeningBatchIn.rule_set": "a look-up key, not stored",
    "UserCreate.password": "stored only as its hash",
    "PasswordChange.old_password": "checked against the stored hash, never stored",
    "PasswordChange.new_password": "stored only as its hash",
    "ElementRef.external_id": "a look-up key, not stored",
    "CustomerRef.account_number": "a look-up key, not stored",
    "FeaturePatchIn.type": "literal 'Feature'",
    "QualificationNeed.certificate_type": "kept in jsonb (field_tasks.required_qualifications)",
    "CrewIn.mode": "one of routing.json's travel modes (validated), kept in jsonb (route_plans.request)",
    "CrewIn.skills": "kept in jsonb (route_plans.request)",
    "JobIn.skills": "kept in jsonb (route_plans.request)",
    "ReadingPlanIn.period": "a month YYYY-MM (pattern), kept in jsonb (route_plans.request)",
}


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    if get_origin(annotation) in (Union, types.UnionType, list, tuple, set, frozenset):
        for arg in get_args(annotation):
            yield from _models(arg)


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    return get_origin(annotation) in (Union, types.UnionType, list) and any(_is_text(a) for a in get_args(annotation))


def _max_length(field: Any) -> int | None:
    for meta in field.metadata:
        value = getattr(meta, "max_length", None)
        if value is not None:
            return int(value)
    return None


def request_models(app: FastAPI) -> set[type[BaseModel]]:
    """Every pydantic model a route reads from a request body, nested ones and layer patches included."""
    found: set[type[BaseModel]] = {layer.props for layer in LAYERS}
    pending: list[type[BaseModel]] = []
    for route in iter_route_contexts(app.router.routes):
        dependant = getattr(route, "dependant", None)
        stack = [dependant] if dependant is not None else []
        while stack:
            current = stack.pop()
            stack.extend(current.dependencies)
            for param in current.body_params:
                pending.extend(_models(param.field_info.annotation))
    while pending:
        model = pending.pop()
        if model in found and model not in {layer.props for layer in LAYERS}:
            continue
        found.add(model)
        for field in model.model_fields.values():
            pending.extend(m for m in _models(field.annotation) if m not in found)
    return {m for m in found if not m.__name__.endswith("FeatureIn")}


def string_fields_and_columns(app: FastAPI) -> list[tuple[str, int | None, str, int | None]]:
    """(Schema.field, schema max_length, table.column, column length or None for unbounded text)."""
    rows: list[tuple[str, int | None, str, int | None]] = []
    unplaced: list[str] = []
    for model in request_models(app):
        for name, field in model.model_fields.items():
            where = f"{model.__name__}.{name}"
            if not _is_text(field.annotation) or where in NOT_BOUNDED_TEXT:
                continue
            column_name = STORED_AS.get(where)
            if column_name is None and model.__name__ in HOME_TABLES:
                table = metadata.tables[HOME_TABLES[model.__name__]]
                if name in table.c:
                    column_name = f"{table.name}.{name}"
            if column_name is None:
                unplaced.append(where)
                continue
            table_name, column = column_name.split(".")
            column_type = metadata.tables[table_name].c[column].type
            length = column_type.length if isinstance(column_type, String) else None
            rows.append((where, _max_length(field), column_name, length))
    assert not unplaced, f"say where these request fields are stored (tests/api/schema_columns.py): {unplaced}"
    return rows
