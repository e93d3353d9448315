"""How a clearance rule weighs the horizontal and the vertical distance (gis.rule_sets.clearance),
on the shipped rules, without a database: the cases the screening tests place on the map, reduced
to their numbers, plus the edges a map case cannot show (a voltage beyond the table, a line above
the defaults, an unknown height)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidInput
from gis.network.line_defaults import conductor_height
from gis.rule_sets.clearance import Placement, check
from gis.rule_sets.definition import RuleSetDefinition
from gis.rule_sets.service import parse_definition
from tests.gis.screening.conftest import CN_FILE, US_FILE, read_rule_file


@pytest.fixture(scope="module")
def cn() -> RuleSetDefinition:
    return parse_definition(read_rule_file(CN_FILE))


def placed(horizontal_m: float, top_m: float | None, conductor_m: float = 10.0, swing_m: float = 0.0) -> Placement:
    return Placement(horizontal_m=horizontal_m, object_top_m=top_m, conductor_height_m=conductor_m,
                     conductor_height_is_default=False, wind_swing_m=swing_m)


def test_under_the_conductors_the_vertical_distance_decides_and_equality_is_a_finding(cn: RuleSetDefinition) -> None:
    crane = cn.rule("clearance.crane")  # 110 kV: 5.0 m vertical

    kept = check(crane, nominal_kv=110.0, placement=placed(0.0, 4.99))
    at = check(crane, nominal_kv=110.0, placement=placed(0.0, 5.0))

    assert kept is not None and not kept.broken and kept.governing == "vertical"
    assert at is not None and at.broken and at.shortfall_m == pytest.approx(0.0)


def test_beside_the_line_a_building_keeps_the_horizontal_distance_whatever_its_height(cn: RuleSetDefinition) -> None:
    building = cn.rule("clearance.building")  # 10 kV: 6.0 m

    low_and_close = check(building, nominal_kv=10.0, placement=placed(5.9, 0.5))

    assert low_and_close is not None and low_and_close.broken and low_and_close.governing == "horizontal"
    assert low_and_close.vertical_gap_m == pytest.approx(9.5)


def test_beside_the_line_a_tree_keeps_either_distance(cn: RuleSetDefinition) -> None:
    tree = cn.rule("clearance.tree")  # 110 kV: 3.5 m + swing beside, 4.0 m below

    low_and_close = check(tree, nominal_kv=110.0, placement=placed(1.0, 5.9, swing_m=3.0))
    tall_and_close = check(tree, nominal_kv=110.0, placement=placed(6.4, 30.0, swing_m=3.0))
    tall_and_apart = check(tree, nominal_kv=110.0, placement=placed(6.6, 30.0, swing_m=3.0))

    assert low_and_close is not None and not low_and_close.broken
    assert tall_and_close is not None and tall_and_close.broken and tall_and_close.required_m == 6.5
    assert tall_and_apart is not None and not tall_and_apart.broken


def test_an_object_of_unknown_height_is_taken_to_reach_the_conductor(cn: RuleSetDefinition) -> None:
    result = check(cn.rule("clearance.tree"), nominal_kv=10.0, placement=placed(0.0, None))

    assert result is not None and result.broken and result.vertical_gap_m is None
    assert result.details()["vertical"]["gap_m"] is None and result.details()["utility_value"] is True


@pytest.mark.parametrize(("height_m", "applies"), [(4.0, False), (4.01, True), (None, True)])
def test_the_4_m_rule_applies_only_above_4_m(cn: RuleSetDefinition, height_m: float | None, applies: bool) -> None:
    result = check(cn.rule("vehicle.over_height"), nominal_kv=10.0, placement=placed(0.0, height_m))

    assert (result is not None and result.broken) is applies


def test_a_voltage_beyond_the_table_is_not_judged(cn: RuleSetDefinition) -> None:
    assert check(cn.rule("clearance.crane"), nominal_kv=800.0, placement=placed(0.0, 50.0)) is None


def test_a_line_beyond_the_height_defaults_is_taken_at_ground_level_so_no_gap_is_assumed() -> None:
    assert conductor_height(nominal_kv=1000.0, min_ground_clearance_m=None) == (0.0, True)
    assert conductor_height(nominal_kv=10.0, min_ground_clearance_m=None) == (5.5, True)
    assert conductor_height(nominal_kv=10.0, min_ground_clearance_m=7.2) == (7.2, False)


def _spoiled(change: Any) -> dict[str, Any]:
    content = read_rule_file(CN_FILE)
    change(content)
    return content


def _vertical_on_a_zone(content: dict[str, Any]) -> None:
    content["rules"][0]["vertical"] = {"source": "x", "measured_from": "x", "beside": "either",
                                       "bands": [{"max_kv": 1000, "distance_m": 1.0}]}


def _height_threshold_on_a_cable_rule(content: dict[str, Any]) -> None:
    rule = next(r for r in content["rules"] if r["code"] == "zone.cable")
    rule.update(kind="clearance", object_taller_than_m=4.0)


def _vertical_bands_out_of_order(content: dict[str, Any]) -> None:
    next(r for r in content["rules"] if r["code"] == "clearance.tree")["vertical"]["bands"].reverse()


def _unknown_beside(content: dict[str, Any]) -> None:
    next(r for r in content["rules"] if r["code"] == "clearance.tree")["vertical"]["beside"] = "sometimes"


@pytest.mark.parametrize("spoil", [_vertical_on_a_zone, _height_threshold_on_a_cable_rule,
                                   _vertical_bands_out_of_order, _unknown_beside])
def test_a_rule_set_with_a_vertical_clearance_where_none_can_apply_is_refused(spoil: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_definition(_spoiled(spoil))


def test_the_us_set_measures_osha_distances_in_any_direction() -> None:
    us = parse_definition(read_rule_file(US_FILE))

    for code in ("clearance.crane.table_a", "clearance.crane.planning", "clearance.travel.table_t"):
        rule = us.rule(code)
        assert rule.vertical is not None and rule.vertical.beside == "either"
        assert [b.distance_m for b in rule.vertical.bands] == [b.distance_m for b in rule.bands]
