"""What each activity needs to be described, checked at the edge before anything is screened.

The rules an activity triggers are data (the rule set's `activities`); the parameters here are
what an officer needs to judge the case and what the geometry alone cannot say (a crane given as
its standing point needs its working radius to become an operating area).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import InvalidInput
from gis.rule_sets.definition import Activity


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectionParams(_Params):
    requested_load_kw: float | None = Field(default=None, gt=0, le=1_000_000,
                                            description="Load applied for; marks transformers with enough spare")


class BuildingParams(_Params):
    height_m: float = Field(gt=0, le=1000, description="Height of the building or structure incl. scaffolding")


class ExcavationParams(_Params):
    depth_m: float = Field(gt=0, le=500, description="Depth of digging, piling or drilling")


class CraneParams(_Params):
    max_height_m: float = Field(gt=0, le=300, description="Highest point of boom or load")
    working_radius_m: float | None = Field(default=None, gt=0, le=150,
                                           description="Needed when the geometry is the crane's standing point")


class TreePlantingParams(_Params):
    mature_height_m: float | None = Field(
        default=None, gt=0, le=150,
        description="The species' height when grown; without it a tree is taken to reach the conductor")


class BlastingParams(_Params):
    charge_kg: float = Field(gt=0, le=1_000_000, description="Explosive charge per blast")


class KiteFlyingParams(_Params):
    """Nothing beyond the place: the 300 m of 条例 §14 hold whatever the kite."""


class VehiclePassageParams(_Params):
    """The route is the vehicle's centre line; its width makes it reach `width_m / 2` either side."""

    height_m: float = Field(gt=0, le=30, description="Height of the vehicle or machinery with its load")
    width_m: float | None = Field(default=None, gt=0, le=10,
                                  description="Width with its load; GW_SCREENING_VEHICLE_WIDTH_M when omitted")


PARAMETERS: dict[Activity, type[_Params]] = {
    Activity.connection: ConnectionParams,
    Activity.building: BuildingParams,
    Activity.excavation: ExcavationParams,
    Activity.crane: CraneParams,
    Activity.tree_planting: TreePlantingParams,
    Activity.blasting: BlastingParams,
    Activity.kite_flying: KiteFlyingParams,
    Activity.vehicle_passage: VehiclePassageParams,
}

# The geometry an activity is described by, where not any: a kite is flown at a point or over an
# area. (A vehicle passes along a route, over the area it moves in such as a permit's site, or at
# one crossing point: any geometry.)
GEOMETRY_TYPES: dict[Activity, frozenset[str]] = {
    Activity.kite_flying: frozenset({"Point", "MultiPoint", "Polygon", "MultiPolygon"}),
}


def object_top_m(parameters: BaseModel) -> float | None:
    """The height of the object's top the activity puts near a line, for vertical clearances."""
    match parameters:
        case BuildingParams():
            return parameters.height_m
        case CraneParams():
            return parameters.max_height_m
        case TreePlantingParams():
            return parameters.mature_height_m
        case VehiclePassageParams():
            return parameters.height_m
    return None


def parse_activity(value: str, *, field: str = "activity") -> Activity:
    try:
        return Activity(value)
    except ValueError as exc:
        known = ", ".join(a.value for a in Activity)
        raise InvalidInput(f"Unknown activity {value!r}; use one of: {known}.",
                           errors=[{"field": field, "message": "unknown activity"}]) from exc


def parse_parameters(activity: Activity, values: dict[str, object] | None, *, field: str = "parameters") -> _Params:
    try:
        return PARAMETERS[activity].model_validate(values or {})
    except ValidationError as exc:
        errors = [{"field": f"{field}." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                  for e in exc.errors()]
        raise InvalidInput(f"Parameters for {activity.value}: " + "; ".join(
            f"{e['field']}: {e['message']}" for e in errors[:5]), errors=errors) from exc
