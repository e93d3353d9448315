"""The screening engine: which rules apply to a request, what was measured, what it means.

Pure rule logic over rows the queries in `gis.screening.sql` return. For every asset near a
request and every rule its activity triggers, the required distance comes from the rule set (by
the asset's voltage), the measured distance from PostGIS, and a finding is made when the
measured distance is at or within the required one. Clearance rules to overhead lines go through
`gis.rule_sets.clearance`, which adds the vertical test (conductor height minus the object's top)
where the rule has one. The verdict is the worst outcome found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shapely import to_wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import TextClause
from sqlalchemy.orm import Session

from gis.network.schemas import MAX_CONDUCTOR_SPREAD_M, MAX_WIND_SWING_M
from gis.rule_sets import clearance
from gis.rule_sets.definition import Activity, Outcome, Rule, RuleKind, RuleSetDefinition
from gis.rule_sets.service import LoadedRuleSet
from gis.screening import sql
from gis.screening.settings import ScreeningSettings
from gis.zones.service import default_spread_bands, line_offset_m

CLEAR = "clear"
# Extra search distance beyond the largest rule distance, for the conductor offset (half the
# spread) and wind swing a line adds on top of the legal width.
OFFSET_MARGIN_M = MAX_CONDUCTOR_SPREAD_M / 2 + MAX_WIND_SWING_M
# Candidate searches run on the sphere (fast); its distances differ from the spheroid's by under
# 0.5 %, so search radii are widened by this factor and decisions use spheroid distances.
SPHERE_SLACK = 1.01


@dataclass(frozen=True)
class Subject:
    """One geometry to screen (EPSG:4326) and what is planned there."""

    geometry: BaseGeometry
    activity: Activity
    requested_load_kw: float | None = None
    # The request is the geodesic circle of this radius around `geometry` (a crane's point).
    buffer_m: float = 0.0
    # Height of the object's top above the ground (building, boom or load, tree at maturity,
    # vehicle with its load), for vertical clearances; None when the activity gives none.
    object_top_m: float | None = None


@dataclass
class Finding:
    asset: dict[str, Any]
    rule: dict[str, Any]
    outcome: str
    required_m: float
    measured_m: float
    shortfall_m: float
    nearest_points: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """Shallow, unlike `dataclasses.asdict` (which deep-copies): the nested dicts are built per
        finding and never shared, and a batch stores tens of thousands of findings."""
        return dict(vars(self))


@dataclass
class TransformerCandidate:
    id: int
    external_id: str
    name: str
    distance_m: float
    rated_kva: float
    contracted_load_kw: float
    spare_kw: float
    enough_for_request: bool | None


@dataclass
class ScreeningOutcome:
    verdict: str = CLEAR
    findings: list[Finding] = field(default_factory=list)
    transformers: list[TransformerCandidate] = field(default_factory=list)
    # Facilities inside a radius rule's distance beyond the nearest ones listed as findings.
    unlisted_findings: int = 0

    @property
    def findings_total(self) -> int:
        return len(self.findings) + self.unlisted_findings


def _rule_info(rule: Rule, language: str = "en") -> dict[str, Any]:
    info = {"code": rule.code, "kind": rule.kind.value, "title": rule.title_in(language),
            "title_zh": rule.title.get("zh"), "source": rule.source, "measured_from": rule.measured_from}
    if rule.vertical is not None:
        info.update(vertical_source=rule.vertical.source, vertical_measured_from=rule.vertical.measured_from)
    if rule.clause is not None:
        info["clause"] = rule.clause
    return info


def _round(value: float) -> float:
    return round(value, 3)


class _Collector:
    """Keeps one finding per (request, asset, rule): the one with the largest shortfall."""

    def __init__(self, count: int) -> None:
        self.best: list[dict[tuple[str, int, str], Finding]] = [{} for _ in range(count)]

    def add(self, idx: int, *, layer: str, asset: dict[str, Any], rule: Rule, outcome: Outcome,
            required: float, measured: float, connector: str | None, extra: dict[str, Any] | None = None,
            broken: bool | None = None) -> None:
        """A finding when `measured` is at or within `required`, or when `broken` says so (a
        clearance check that weighed two distances)."""
        if not (measured <= required if broken is None else broken):
            return
        key = (layer, int(asset["id"]), rule.code)
        finding = Finding(asset={"layer": layer, **asset}, rule={**_rule_info(rule), **(extra or {})},
                          outcome=outcome.value, required_m=_round(required), measured_m=_round(measured),
                          shortfall_m=_round(required - measured),
                          nearest_points=json.loads(connector) if connector else None)
        current = self.best[idx].get(key)
        if current is None or finding.shortfall_m > current.shortfall_m:
            self.best[idx][key] = finding


def _applicable(definition: RuleSetDefinition, subjects: Sequence[Subject]) -> list[list[tuple[Rule, Outcome]]]:
    return [definition.rules_for(s.activity) for s in subjects]


def _largest(per_subject: list[list[tuple[Rule, Outcome]]], kinds: Iterable[RuleKind]) -> float | None:
    wanted = set(kinds)
    distances = [rule.largest_distance for rules in per_subject for rule, _ in rules if rule.kind in wanted]
    return max(distances) if distances else None


def _constructions(per_subject: list[list[tuple[Rule, Outcome]]], kind: RuleKind) -> list[str]:
    """Which constructions (overhead, cable) rules of `kind` apply to: clearances in the CN set are
    about overhead conductors only, so the 33,000 cable sections need not be searched for them."""
    wanted = {rule.construction for rules in per_subject for rule, _ in rules if rule.kind == kind}
    return ["overhead", "cable"] if None in wanted else sorted(c for c in wanted if c)


def _rows(db: Session, statement: TextClause, params: dict[str, Any]) -> list[Any]:
    return list(db.execute(statement, params))


def evaluate(*, db: Session, rule_set: LoadedRuleSet, subjects: Sequence[Subject], on_date: date,
             settings: ScreeningSettings) -> list[ScreeningOutcome]:
    """Screen every subject under `rule_set`; the result list is in the order of `subjects`."""
    definition = rule_set.definition
    per_subject = _applicable(definition, subjects)
    wkbs = [to_wkb(s.geometry) for s in subjects]
    buffers = [s.buffer_m for s in subjects]
    exact = {"exact_below_m": settings.exact_check_below_m}
    base = {"idx": list(range(len(subjects))), "wkb": wkbs, "buffer": buffers, **exact}

    def subset(wanted: list[int]) -> dict[str, Any]:
        return {"idx": wanted, "wkb": [wkbs[i] for i in wanted], "buffer": [buffers[i] for i in wanted], **exact}

    def needing(kind: RuleKind) -> dict[str, Any]:
        """The request arrays restricted to the subjects whose activity has rules of `kind`, so a
        batch mixing activities only searches what each activity needs."""
        return subset([i for i in range(len(subjects)) if rules_of(i, kind)])

    found = _Collector(len(subjects))
    unlisted: dict[int, int] = {}

    def rules_of(idx: int, kind: RuleKind) -> list[tuple[Rule, Outcome]]:
        return [(rule, outcome) for rule, outcome in per_subject[idx] if rule.kind == kind]

    zone_radius = _largest(per_subject, [RuleKind.zone])
    if zone_radius is not None:
        for row in _rows(db, sql.ZONE_PARTS, {**needing(RuleKind.zone), "rule_set_id": rule_set.id,
                                                 "radius_m": (zone_radius + OFFSET_MARGIN_M) * SPHERE_SLACK}):
            asset = _line_asset(row.line_id, row)
            for rule, outcome in rules_of(row.idx, RuleKind.zone):
                width = rule.distance_for(row.nominal_kv) if rule.setting == row.setting else None
                if width is None:
                    continue
                swing = row.wind_swing_m if rule.plus_wind_swing else 0.0
                measured = max(0.0, row.centre_m - row.conductor_offset_m)
                found.add(row.idx, layer="lines", asset=asset, rule=rule, outcome=outcome, required=swing + width,
                          measured=measured, connector=row.connector,
                          extra={"setting": row.setting, "width_m": width, "wind_swing_m": _round(swing),
                                 "conductor_offset_m": _round(row.conductor_offset_m)})

    for radius, wanted in _clearance_groups(per_subject).items():
        for row in _rows(db, sql.LINES, {**subset(wanted), "radius_m": (radius + OFFSET_MARGIN_M) * SPHERE_SLACK,
                                         "constructions": _constructions(per_subject, RuleKind.clearance)}):
            _add_clearances(found, row, subjects[row.idx], rules_of(row.idx, RuleKind.clearance))

    foundation_radius = _largest(per_subject, [RuleKind.foundation])
    if foundation_radius is not None:
        for row in _rows(db, sql.POLES, {**needing(RuleKind.foundation),
                                            "radius_m": foundation_radius * SPHERE_SLACK}):
            asset = {"id": row.id, "external_id": row.external_id, "name": "", "nominal_kv": row.nominal_kv,
                     "construction": "overhead", "kind": row.kind}
            for rule, outcome in rules_of(row.idx, RuleKind.foundation):
                required = rule.distance_for(row.nominal_kv)
                if required is not None:
                    found.add(row.idx, layer="poles", asset=asset, rule=rule, outcome=outcome, required=required,
                              measured=row.distance_m, connector=row.connector)

    facility_radius = _largest(per_subject, [RuleKind.facility_radius])
    if facility_radius is not None:
        params = {**needing(RuleKind.facility_radius), **default_spread_bands(),
                  "required_m": facility_radius * SPHERE_SLACK,
                  "radius_m": (facility_radius + OFFSET_MARGIN_M) * SPHERE_SLACK, "listed": settings.facilities_listed}
        listed: dict[int, int] = {}
        for row in _rows(db, sql.FACILITIES, params):
            listed[row.idx] = listed.get(row.idx, 0) + 1
            unlisted[row.idx] = row.total - listed[row.idx]
            asset = {"id": row.id, "external_id": row.external_id, "name": row.name, "nominal_kv": row.nominal_kv,
                     "construction": row.construction}
            # A line is measured from its own outer conductor (its recorded spread; the default only
            # when none is recorded), as for zones and clearances.
            offset = (line_offset_m(construction=row.construction, nominal_kv=row.nominal_kv,
                                    conductor_spread_m=row.conductor_spread_m) if row.layer == "lines" else 0.0)
            for rule, outcome in rules_of(row.idx, RuleKind.facility_radius):
                required = rule.distance_for(row.nominal_kv)
                if required is not None:
                    found.add(row.idx, layer=row.layer, asset=asset, rule=rule, outcome=outcome, required=required,
                              measured=max(0.0, row.distance_m - offset), connector=row.connector)

    if any(rules_of(i, RuleKind.manual_zone) for i in range(len(subjects))):
        for row in _rows(db, sql.MANUAL_ZONES, {**needing(RuleKind.manual_zone), "on_date": on_date}):
            asset = {"id": row.id, "external_id": row.external_id, "name": row.name, "nominal_kv": None,
                     "construction": None, "zone_type": row.zone_type}
            for rule, outcome in rules_of(row.idx, RuleKind.manual_zone):
                found.add(row.idx, layer="manual_zones", asset=asset, rule=rule, outcome=outcome, required=0.0,
                          measured=0.0, connector=None,
                          extra={"authority": row.authority, "reason": row.reason})

    outcomes = [_outcome(list(best.values())) for best in found.best]
    for idx, count in unlisted.items():
        outcomes[idx].unlisted_findings = count
    _add_transformers(db, base, subjects, outcomes, settings)
    return outcomes


def _clearance_groups(per_subject: list[list[tuple[Rule, Outcome]]]) -> dict[float, list[int]]:
    """The subjects with clearance rules, grouped by how far their rules reach: a kite's 300 m
    must not make a crane in the same batch search 300 m of lines."""
    groups: dict[float, list[int]] = {}
    for idx, rules in enumerate(per_subject):
        reach = [rule.largest_distance for rule, _ in rules if rule.kind == RuleKind.clearance]
        if reach:
            groups.setdefault(max(reach), []).append(idx)
    return groups


def _add_clearances(found: _Collector, row: Any, subject: Subject, rules: list[tuple[Rule, Outcome]]) -> None:
    """Every clearance rule of the subject's activity applied to one line near it."""
    asset = _line_asset(row.id, row)
    offset = line_offset_m(construction=row.construction, nominal_kv=row.nominal_kv,
                           conductor_spread_m=row.conductor_spread_m)
    placement = clearance.beside_line(
        horizontal_m=max(0.0, row.centre_m - offset), object_top_m=subject.object_top_m, nominal_kv=row.nominal_kv,
        construction=row.construction, min_ground_clearance_m=row.min_ground_clearance_m,
        wind_swing_m=row.wind_swing_m)
    for rule, outcome in rules:
        if rule.construction and rule.construction != row.construction:
            continue
        result = clearance.check(rule, nominal_kv=row.nominal_kv, placement=placement)
        if result is None:
            continue
        extra: dict[str, Any] = {"conductor_offset_m": _round(offset)}
        if rule.vertical is not None or rule.plus_wind_swing:
            extra.update(result.details())
        if rule.object_taller_than_m is not None:
            extra.update(object_top_m=subject.object_top_m, taller_than_m=rule.object_taller_than_m)
        found.add(row.idx, layer="lines", asset=asset, rule=rule, outcome=outcome, required=result.required_m,
                  measured=result.measured_m, connector=row.connector, extra=extra, broken=result.broken)


def _line_asset(line_id: int, row: Any) -> dict[str, Any]:
    return {"id": line_id, "external_id": row.external_id, "name": row.name, "nominal_kv": row.nominal_kv,
            "construction": row.construction}


def _outcome(findings: list[Finding]) -> ScreeningOutcome:
    findings.sort(key=lambda f: (f.outcome != Outcome.conflict, -f.shortfall_m, f.asset["layer"], f.asset["id"]))
    outcomes = {f.outcome for f in findings}
    verdict = (Outcome.conflict.value if Outcome.conflict in outcomes
               else Outcome.conditional.value if outcomes else CLEAR)
    return ScreeningOutcome(verdict=verdict, findings=findings)


def _add_transformers(db: Session, base: dict[str, Any], subjects: Sequence[Subject], outcomes: list[ScreeningOutcome],
                      settings: ScreeningSettings) -> None:
    """The nearest distribution transformers with spare capacity = rated kVA x power factor minus
    the contracted load of the customers already on it (DOMAIN.md §4)."""
    # A few more candidates than wanted from the index walk (sphere), then ranked on the spheroid.
    params = {**base, "lv_max_kv": settings.distribution_lv_max_kv, "candidates": 2 * settings.nearest_transformers}
    by_subject: dict[int, list[Any]] = {}
    for row in _rows(db, sql.TRANSFORMERS, params):
        by_subject.setdefault(row.idx, []).append(row)
    for idx, rows in by_subject.items():
        wanted = subjects[idx].requested_load_kw
        rows.sort(key=lambda r: (r.distance_m, r.id))
        for row in rows[: settings.nearest_transformers]:
            spare = row.rated_kva * settings.power_factor - float(row.contracted_kw)
            outcomes[idx].transformers.append(TransformerCandidate(
                id=row.id, external_id=row.external_id, name=row.name, distance_m=_round(row.distance_m),
                rated_kva=row.rated_kva, contracted_load_kw=_round(float(row.contracted_kw)),
                spare_kw=_round(spare), enough_for_request=None if wanted is None else spare >= wanted))
