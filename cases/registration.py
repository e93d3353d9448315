"""Checking a submission before it becomes a case: a connection request or construction permit
(`CaseIn`) or an encroachment report (`EncroachmentIn`), with its site and the activities to
screen there. Nothing is stored here; `cases.service.register` stores and screens what passes.

The site is screened at once, so it is validated as the screening will take it, against the rule
set that will screen it: that rule set is looked up once, here, and travels with the registration
(`Registration.screening`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from cases.policy import case_policy
from cases.schemas import CaseIn, EncroachmentIn
from cases.settings import workflow_settings
from cases.workflow import CaseKind
from core.errors import InvalidInput
from core.fingerprint import request_fingerprint
from core.settings import Settings
from gis.geo.geometry import geodesic_distance_m, parse_geometry
from gis.screening import service as screening_service
from gis.screening import use_cases as screening
from gis.screening.settings import screening_settings
from gis.screening.use_cases import Prepared

# The site travels to the screening as WGS84 GeoJSON, whatever CRS the client sent it in.
SITE_EPSG = 4326


@dataclass(frozen=True)
class Registration:
    """A validated case, ready to be stored and screened. `fingerprint` identifies the request it
    came from (`core.fingerprint.request_fingerprint`), so an Idempotency-Key is bound to it."""

    kind: CaseKind
    request_type: str
    location: BaseGeometry
    footprint: BaseGeometry | None
    screening: Prepared
    fields: dict[str, Any]
    fingerprint: str


def _validate(*, db: Session, location_json: dict[str, Any], footprint_json: dict[str, Any] | None,
              activities: list[tuple[str, dict[str, Any]]], epsg: int, settings: Settings
              ) -> tuple[BaseGeometry, BaseGeometry | None, Prepared]:
    # The site is screened, so it takes the screening's limits, checked here before any other work.
    site_limits = screening_service.screening_limits(screening_settings(settings))
    location = parse_geometry(location_json, epsg=epsg, allowed_types=frozenset({"Point"}), field="location",
                              limits=site_limits)
    footprint = (parse_geometry(footprint_json, epsg=epsg, allowed_types=frozenset({"Polygon", "MultiPolygon"}),
                                field="footprint", limits=site_limits) if footprint_json else None)
    limit_m = workflow_settings(settings).max_footprint_distance_m
    if footprint is not None and geodesic_distance_m(footprint, location) > limit_m:
        raise InvalidInput(f"The footprint is more than {limit_m:g} m from the location; check both geometries.",
                           errors=[{"field": "footprint", "message": "not at the location"}])
    site = mapping(footprint if footprint is not None else location)
    raws = [screening_service.RawScreening(geometry=dict(site), activity=a, parameters=p) for a, p in activities]
    return location, footprint, screening.prepare(db=db, raws=raws, epsg=SITE_EPSG, limits=screening_settings(settings))


def prepare_case(*, db: Session, case_in: CaseIn, epsg: int, settings: Settings) -> Registration:
    kind = CaseKind(case_in.kind)
    activities = [(a.activity, a.parameters) for a in case_in.activities]
    if kind == CaseKind.connection and not any(a == "connection" for a, _ in activities):
        activities.insert(0, ("connection", {"requested_load_kw": case_in.requested_load_kw}))
    location, footprint, prepared = _validate(db=db, location_json=case_in.location,
                                              footprint_json=case_in.footprint, activities=activities, epsg=epsg,
                                              settings=settings)
    fields = case_in.model_dump(exclude={"kind", "request_type", "location", "footprint", "activities"})
    fields["activities"] = [{"activity": a, "parameters": p} for a, p in activities]
    return Registration(kind=kind, request_type=case_in.request_type, location=location, footprint=footprint,
                        screening=prepared, fields=fields,
                        fingerprint=request_fingerprint(operation="case.request", epsg=epsg, body=case_in))


def prepare_encroachment(*, db: Session, report: EncroachmentIn, epsg: int, settings: Settings) -> Registration:
    """A patrol rarely knows more than "someone is building here": what was found and the voltage
    to assume until screening names the line take their defaults from policy.json."""
    defaults = case_policy().encroachment
    activity = report.activity or defaults["activity"]
    parameters = report.parameters if report.parameters is not None else (
        defaults["parameters"] if activity == defaults["activity"] else {})
    location, footprint, prepared = _validate(db=db, location_json=report.location,
                                              footprint_json=report.footprint, activities=[(activity, parameters)],
                                              epsg=epsg, settings=settings)
    fields = {"applicant_name": report.responsible_party or "-", "site_address": report.site_address,
              "description": report.description, "voltage_kv": float(defaults["voltage_kv"]),
              "language": report.language, "activities": [{"activity": activity, "parameters": parameters}]}
    return Registration(kind=CaseKind.encroachment, request_type="encroachment", location=location,
                        footprint=footprint, screening=prepared, fields=fields,
                        fingerprint=request_fingerprint(operation="case.encroachment", epsg=epsg, body=report))
