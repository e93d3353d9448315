"""The records a pull page sends, as the device stores them: tasks, published routes, checklist versions, map features
of the pulled layers (personal data masked by each layer's own privacy rule, as the map masks it for
the caller's role) and derived zones. Read by id, in one query per entity type of the page."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import JSON, Text, and_, case, cast, func, join, select, true
from sqlalchemy.orm import Session

from core.context import Actor
from gis.layers.spec import LayerSpec
from gis.rule_sets.models import RuleSet
from gis.zones.models import LineZone
from inspections.models import ChecklistTemplate, ChecklistVersion, FieldTask
from inspections.sync.scope import CHECKLIST_VERSION, DERIVED_ZONE, ROUTE, TASK, pulled_layers
from inspections.sync.settings import SyncSettings
from routing.publish import my_route

Rendered = dict[tuple[str, int], dict[str, Any]]

# What a device holds of a task: enough to work offline and to send edits against `version`.
TASK_FIELDS = ("uuid", "task_type", "state", "version", "field_versions", "title", "notes", "priority", "asset_type",
               "asset_id", "voltage_kv", "due_from", "due_until", "required_qualifications", "checklist_version_id",
               "answers", "review_note", "case_id", "parent_task_id", "origin", "updated_at")
ZONE_FIELDS = ("line_id", "rule_code", "setting", "nominal_kv", "conductor_offset_m", "wind_swing_m", "width_m",
               "half_width_m")
GEOJSON_DECIMALS = 9


def _tasks(db: Session, actor: Actor, ids: list[int]) -> Rendered:
    # Only while still the caller's: a task re-assigned since the comparison goes as a deletion.
    rows = db.execute(select(FieldTask, func.ST_AsGeoJSON(FieldTask.location, GEOJSON_DECIMALS))
                      .where(FieldTask.id.in_(ids), FieldTask.assignee_id == actor.user_id))
    return {(TASK, task.id): {"id": task.id, **{name: getattr(task, name) for name in TASK_FIELDS},
                              "geometry": json.loads(geojson)} for task, geojson in rows}


def _checklists(db: Session, ids: list[int]) -> Rendered:
    rows = db.execute(select(ChecklistVersion, ChecklistTemplate)
                      .join(ChecklistTemplate, ChecklistTemplate.id == ChecklistVersion.template_id)
                      .where(ChecklistVersion.id.in_(ids)))
    return {(CHECKLIST_VERSION, version.id): {"id": version.id, "template_code": template.code,
                                              "template_name": template.name, "task_type": template.task_type,
                                              "version": version.version, "items": version.items}
            for version, template in rows}


def _routes(db: Session, actor: Actor, ids: list[int]) -> Rendered:
    """The caller's published route of each day (id YYYYMMDD), as `GET /my/route` shows it."""
    found: Rendered = {}
    for day_id in ids:
        day = date(day_id // 10000, day_id // 100 % 100, day_id % 100)
        route = my_route(db=db, actor=actor, day=day, user_id=None)
        if route.stops:
            found[(ROUTE, day_id)] = route.model_dump(mode="json")
    return found


def _features(db: Session, actor: Actor, layer: LayerSpec, ids: list[int]) -> Rendered:
    """The features as PostgreSQL writes them (as the map's lists do: thousands per pull), with the
    layer's privacy rule for this reader: its SQL masks, and the disclosures it logs."""
    model = layer.model
    privacy = layer.privacy
    masks = privacy.masks_for(actor) if privacy else {}
    disclosure = privacy.disclosure_for(actor) if privacy else None
    shown = [(getattr(func, masks[name])(getattr(model, name)) if name in masks else getattr(model, name)).label(name)
             for name in layer.output_fields]
    properties = select(*shown).correlate(model).lateral("properties")
    feature = func.json_build_object("id", model.id, "layer", layer.name, "version", model.version,
                                     "properties", func.row_to_json(properties.table_valued()),
                                     "geometry", cast(func.ST_AsGeoJSON(layer.geometry, GEOJSON_DECIMALS), JSON))
    columns: list[Any] = [model.id, cast(feature, Text)]
    if disclosure is not None:
        field = getattr(model, disclosure.field)
        columns.append(case((and_(field.is_not(None), field != ""), getattr(model, disclosure.key))))
    rows = list(db.execute(select(*columns).select_from(join(model, properties, true()))
                           .where(model.id.in_(ids), model.deleted_at.is_(None)).order_by(model.id)))
    if privacy is not None and disclosure is not None:
        privacy.log_disclosure(db, actor, [row[2] for row in rows if row[2] is not None])
    return {(layer.entity_type, row[0]): json.loads(row[1]) for row in rows}


def _zones(db: Session, ids: list[int]) -> Rendered:
    rows = db.execute(select(LineZone, RuleSet.code, RuleSet.version,
                             func.ST_AsGeoJSON(LineZone.geom, GEOJSON_DECIMALS))
                      .join(RuleSet, RuleSet.id == LineZone.rule_set_id).where(LineZone.id.in_(ids)))
    return {(DERIVED_ZONE, zone.id): {"id": zone.id, "properties": {
        "source": "derived", "rule_set": f"{code} {version}", **{name: getattr(zone, name) for name in ZONE_FIELDS}},
        "geometry": json.loads(geojson)} for zone, code, version, geojson in rows}


def render(*, db: Session, actor: Actor, settings: SyncSettings, wanted: Iterable[tuple[str, int]]) -> Rendered:
    """Each wanted (entity type, id) that still exists, as the device stores it."""
    by_type: dict[str, list[int]] = {}
    for entity_type, entity_id in wanted:
        by_type.setdefault(entity_type, []).append(entity_id)
    found: Rendered = {}
    if TASK in by_type:
        found |= _tasks(db, actor, by_type[TASK])
    if ROUTE in by_type:
        found |= _routes(db, actor, by_type[ROUTE])
    if CHECKLIST_VERSION in by_type:
        found |= _checklists(db, by_type[CHECKLIST_VERSION])
    if DERIVED_ZONE in by_type:
        found |= _zones(db, by_type[DERIVED_ZONE])
    for layer in pulled_layers(settings):
        if layer.entity_type in by_type:
            found |= _features(db, actor, layer, by_type[layer.entity_type])
    return found
