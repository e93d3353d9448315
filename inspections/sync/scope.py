"""What one inspector's device should hold, as (entity type, id, fingerprint) rows: the pull's scope.

- their tasks: assigned to them and not final, plus those closed or cancelled within
  `pull_recently_closed_days` (the app still shows what was done);
- the checklist versions those tasks are done against (immutable; the fingerprint follows the
  template's name);
- their published routes (`route`, one per day from today on: the stops in order with planned times;
  id = the day as YYYYMMDD, fingerprint = the publishing plan's id and version);
- the records of the pulled map layers (`pull_layers`: network assets, manual zones, customers) not
  deleted and within `pull_radius_m` of any of those tasks' locations, by geography `ST_DWithin` on
  the `geom::geography` GiST index of each layer (one index probe per task), and the derived protection
  zones of the lines in scope (a zone belongs to its line: the inspector walks the line).

The fingerprint of a managed record is its version (bumped by every write); derived zones, rebuilt by
the system without a version, take a digest of what they are. Nothing else widens the scope: an
inspector never receives a customer that is not near one of their own tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CTE, Integer, Select, Text, bindparam, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from gis.layers.catalogue import managed_layers
from gis.layers.spec import LayerSpec
from gis.network.models import Line
from gis.rule_sets.models import RuleSet
from gis.zones.layers import MANUAL_ZONES
from gis.zones.models import LineZone, ManualZone
from inspections.models import ChecklistTemplate, ChecklistVersion, FieldTask
from inspections.plan_runs import local_today
from inspections.policy import local_timezone
from inspections.sync.settings import SyncSettings
from inspections.workflow import TaskState
from routing.models import RoutePlan, RouteStop

TASK = "task"
CHECKLIST_VERSION = "checklist_version"
ROUTE = "route"
DERIVED_ZONE = "derived_zone"
# A task in one of these states is done; it stays on the device for a while, then leaves it.
FINAL_STATES = (TaskState.closed.value, TaskState.cancelled.value)


@dataclass(frozen=True)
class ScopeParams:
    """The values one scope query is run with (bound parameters)."""

    user_id: int
    closed_since: datetime
    today: Any  # the utility's local date: manual zones expired before it and routes of earlier days are out
    radius_m: float

    @classmethod
    def of(cls, *, user_id: int, now: datetime, settings: SyncSettings) -> ScopeParams:
        return cls(user_id=user_id, closed_since=now - timedelta(days=settings.pull_recently_closed_days),
                   today=local_today(now, local_timezone()), radius_m=settings.pull_radius_m)

    def bind(self) -> dict[str, Any]:
        return {"scope_user_id": self.user_id, "scope_closed_since": self.closed_since, "scope_today": self.today,
                "scope_radius_m": self.radius_m}


def pulled_layers(settings: SyncSettings) -> tuple[LayerSpec, ...]:
    """The managed layers named in `pull_layers`, in catalogue order (unknown names are a mistake)."""
    layers = {layer.name: layer for layer in managed_layers()}
    unknown = set(settings.pull_layers) - layers.keys()
    if unknown:
        raise ValueError(f"GW_SYNC_PULL_LAYERS names unknown layers: {sorted(unknown)}")
    return tuple(layer for layer in managed_layers() if layer.name in settings.pull_layers)


def entity_order(settings: SyncSettings) -> list[str]:
    """The order a pull sends entity types in: tasks first (what the inspector needs at once), then
    their checklists, then the map around them."""
    return [TASK, ROUTE, CHECKLIST_VERSION, *(layer.entity_type for layer in pulled_layers(settings)), DERIVED_ZONE]


def _tasks() -> CTE:
    return (select(FieldTask.id, FieldTask.version, FieldTask.checklist_version_id,
                   func.Geography(FieldTask.location).label("area"))
            .where(FieldTask.assignee_id == bindparam("scope_user_id"),
                   or_(FieldTask.state.not_in(FINAL_STATES),
                       FieldTask.updated_at >= bindparam("scope_closed_since")))
            .cte("scope_tasks"))


def _near(layer: LayerSpec, tasks: CTE) -> Select[str, int, str]:
    model = layer.model
    stmt = (select(literal(layer.entity_type).label("entity_type"), model.id.label("entity_id"),
                   cast(model.version, Text).label("fingerprint"))
            .join(tasks, func.ST_DWithin(func.Geography(layer.geometry), tasks.c.area,
                                         bindparam("scope_radius_m")))
            .where(model.deleted_at.is_(None)).distinct())
    if layer is MANUAL_ZONES:
        stmt = stmt.where(or_(ManualZone.valid_to.is_(None), ManualZone.valid_to >= bindparam("scope_today")))
    return stmt


def _routes() -> Select[str, int, str]:
    """One row per day the user has published stops from today on (a plan replaces a person's day
    whole, so the day's stops come from one plan)."""
    return (select(literal(ROUTE), cast(func.to_char(RouteStop.day, "YYYYMMDD"), Integer),
                   func.min(cast(RoutePlan.id, Text) + literal(":") + cast(RoutePlan.version, Text)))
            .join(RoutePlan, RoutePlan.id == RouteStop.plan_id)
            .where(RouteStop.user_id == bindparam("scope_user_id"), RouteStop.day >= bindparam("scope_today"))
            .group_by(RouteStop.day))


def scope_statement(settings: SyncSettings) -> Select[Any]:
    """(entity_type, entity_id, fingerprint) of everything in scope; run with `ScopeParams.bind()`."""
    tasks = _tasks()
    layers = pulled_layers(settings)
    parts: list[Select[str, int, str]] = [
        select(literal(TASK).label("entity_type"), tasks.c.id.label("entity_id"),
               cast(tasks.c.version, Text).label("fingerprint")),
        select(literal(CHECKLIST_VERSION), ChecklistVersion.id,
               func.md5(ChecklistTemplate.name + literal(":") + cast(ChecklistVersion.version, Text)))
        .join(ChecklistTemplate, ChecklistTemplate.id == ChecklistVersion.template_id)
        .where(ChecklistVersion.id.in_(select(tasks.c.checklist_version_id))),
        _routes(),
        *(_near(layer, tasks) for layer in layers),
    ]
    line_layer = next((layer for layer in layers if layer.model is Line), None)
    if line_layer is not None:
        lines_near = _near(line_layer, tasks).with_only_columns(Line.id).subquery("scope_lines")
        parts.append(
            select(literal(DERIVED_ZONE), LineZone.id,
                   func.md5(func.concat_ws(":", LineZone.line_id, RuleSet.code, RuleSet.version, LineZone.rule_code,
                                           LineZone.setting, LineZone.half_width_m,
                                           func.encode(func.ST_AsBinary(LineZone.geom), "hex"))))
            .join(RuleSet, RuleSet.id == LineZone.rule_set_id)
            .where(LineZone.line_id.in_(select(lines_near.c.id))))
    return select(union_all(*parts).subquery("scope"))


def current_scope(*, db: Session, settings: SyncSettings, params: ScopeParams) -> list[tuple[str, int, str]]:
    """The scope itself (the benchmark's reference: what the pull costs beyond finding it)."""
    return [(t, i, f) for t, i, f in db.execute(scope_statement(settings), params.bind())]

