"""A tree measured on patrol beside an overhead line, weighed by the rule a tree-planting request is
screened by: the default rule set's clearance rules for `tree_planting` on overhead lines (CN-EPP:
`clearance.tree`, 实施细则 §16), applied through the same pure `gis.rule_sets.clearance.check` with
the line's wind swing and conductor height taken as screening takes them. So a tree the screening
would not let anyone plant there is not waved through on patrol once it has grown there, and the
two never disagree about a distance.

The judgement is stored with the finding (`findings.clearance_check`) as it was made: the rule set
and rule with their legal source, the outcome the rule set gives a breach, both distances and which
governed, the conductor height and whether it is a default, and the measurement itself (a report
sent again is the same report only with the same measurement). When the rule set sets no tree
clearance for the line's voltage, the finding says so (`applies: false` and why): nothing is guessed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from gis.network.models import Construction, Line
from gis.rule_sets import clearance
from gis.rule_sets import service as rule_set_service
from gis.rule_sets.definition import Activity, Outcome, Rule, RuleKind
from gis.rule_sets.service import LoadedRuleSet
from inspections.specs import TreeMeasurement

# The asset type a tree measurement names (the lines layer's entity type).
LINE = "line"
# When more than one tree rule applies, the finding shows the one that weighs most: a broken rule
# before a kept one, a conflict before a condition, then the largest shortfall.
_OUTCOME_WEIGHT = {Outcome.conflict: 2, Outcome.conditional: 1}
# Distances are shown to the millimetre, as screening findings show them.
DECIMALS = 3


def _metres(value: float) -> float:
    return round(value, DECIMALS)


def measured_line(*, db: Session, asset_id: int) -> Line:
    """The line a tree measurement is taken beside (its existence is already checked), or 422 when
    it is an underground cable: tree clearances are kept from overhead conductors."""
    line = db.get(Line, asset_id)
    if line is None or line.deleted_at is not None:
        raise InvalidInput(f"No line with id {asset_id} (or it was deleted).",
                           errors=[{"field": "asset_id", "message": "no such asset"}])
    if line.construction != Construction.overhead:
        raise InvalidInput(f"Line {asset_id} is an underground cable; a tree measurement is taken beside an "
                           "overhead line (nothing was stored).",
                           errors=[{"field": "tree", "message": "only beside an overhead line"}])
    return line


def tree_rules(rule_set: LoadedRuleSet) -> list[tuple[Rule, Outcome]]:
    """The rule set's clearance rules for planting a tree that apply to overhead lines, with the
    outcome it gives a breach: what screening applies to a `tree_planting` request near a line."""
    return [(rule, outcome) for rule, outcome in rule_set.definition.rules_for(Activity.tree_planting)
            if rule.kind == RuleKind.clearance and rule.construction in (None, Construction.overhead.value)]


def judge(*, rule_set: LoadedRuleSet, line: Line, tree: TreeMeasurement) -> dict[str, Any]:
    """The tree rule(s) of `rule_set` applied to a tree measured beside `line` (pure: no database).

    The conductor height is the one measured on site when the inspector gave it, else the line's
    record, else its voltage's default (flagged, as screening flags it); the wind swing is the
    line's, else its voltage's default. `shortfall_m` is the governing distance's required minus
    measured: positive by how much the tree is too close, negative by the margin it keeps."""
    placement = clearance.beside_line(
        horizontal_m=tree.horizontal_m, object_top_m=tree.height_m, nominal_kv=line.nominal_kv,
        construction=Construction.overhead.value, min_ground_clearance_m=line.min_ground_clearance_m,
        wind_swing_m=line.wind_swing_m, measured_conductor_height_m=tree.conductor_height_m)
    height_source = ("measured" if tree.conductor_height_m is not None
                     else "default" if placement.conductor_height_is_default else "line")
    base: dict[str, Any] = {"rule_set": rule_set.label, "line_nominal_kv": line.nominal_kv,
                            "measurement": tree.as_dict()}
    rules = tree_rules(rule_set)
    checks = [(rule, outcome, result) for rule, outcome in rules
              if (result := clearance.check(rule, nominal_kv=line.nominal_kv, placement=placement)) is not None]
    if not checks:
        reason = (f"Rule set {rule_set.label} has no tree clearance rule for overhead lines." if not rules else
                  f"Rule set {rule_set.label} sets no tree clearance for a {line.nominal_kv:g} kV line.")
        return {"applies": False, "reason": reason, **base}
    rule, outcome, result = max(checks, key=lambda c: (c[2].broken, _OUTCOME_WEIGHT[c[1]], c[2].shortfall_m))
    judged: dict[str, Any] = {
        "applies": True, **base, "rule_code": rule.code, "title": rule.title_in("en"),
        "title_zh": rule.title.get("zh"), "source": rule.source, "outcome": outcome.value, "broken": result.broken,
        "governing": result.governing, "required_m": _metres(result.required_m),
        "measured_m": _metres(result.measured_m), "shortfall_m": _metres(result.shortfall_m),
        "conductor_height_source": height_source, "wind_swing_is_default": line.wind_swing_m is None,
        "details": result.details()}
    if rule.vertical is not None:
        judged["vertical_source"] = rule.vertical.source
    return judged


def assess(*, db: Session, line: Line, tree: TreeMeasurement) -> dict[str, Any]:
    """The default rule set's judgement of a tree beside `line` (see `judge`); without a default
    rule set the finding records that no rule could be applied rather than failing the report."""
    try:
        rule_set = rule_set_service.get_rule_set(db=db, reference=None)
    except NotFound as exc:
        return {"applies": False, "reason": exc.detail, "line_nominal_kv": line.nominal_kv,
                "measurement": tree.as_dict()}
    return judge(rule_set=rule_set, line=line, tree=tree)


def demands_follow_up(clearance_check: dict[str, Any] | None) -> bool:
    """Whether the judgement alone calls for a follow-up visit: a broken clearance whose breach the
    rule set calls a conflict (a tree the screening would refuse to let be planted there) endangers
    the line whatever the reporter thought of it, as a critical finding does."""
    return bool(clearance_check and clearance_check.get("applies") and clearance_check.get("broken")
                and clearance_check.get("outcome") == Outcome.conflict.value)


def measurement_of(clearance_check: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tree measurement a stored judgement was made on (None for a finding without one)."""
    if clearance_check is None:
        return None
    measurement: dict[str, Any] = clearance_check["measurement"]
    return measurement
