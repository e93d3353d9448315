"""The protection rules beyond the horizontal zone (issue 13): kites, vehicles passing under lines,
vertical clearances for buildings and cranes, and trees by voltage, under the default CN-EPP 2011.2
and the US-OSHA 2010.2 rule sets.

Every case is computed by hand from the rule files. Lines record their spread, wind swing and
lowest conductor height so that each number is exact; a request is placed 0.1 m (or 0.5 m at
300 m) either side of each boundary, at four sites from the equator to 69.6° N.

- CN 10 kV: JGJ 46 building 6.0 m (horizontal and vertical); machinery (vehicles) 2.0 m horizontal,
  3.0 m vertical; trees (the utility's own value below 35 kV) 2.0 m + wind swing / 3.0 m.
- CN 110 kV: JGJ 46 crane 4.0 m horizontal / 5.0 m vertical; trees 3.5 m + wind swing / 4.0 m.
- US ≤ 50 kV: Table A 10 ft (3.048 m), planning 20 ft (6.096 m), Table T travel 6 ft (1.8288 m).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.gis.screening.conftest import (
    ARCTIC,
    EAST,
    EQUATOR,
    HEFEI,
    NORTH,
    SCREENINGS,
    SITES,
    SOUTH_45,
    Desk,
    LonLat,
    assert_includes,
    beside,
    count_rows,
    error_fields,
    finding,
    geodesic_line,
    point,
    rules_of,
    square,
)

US = "US-OSHA@2010.2"
NORTH_AMERICA: LonLat = (-100.0, 40.0)
TEN_KV = {"nominal_kv": 10.0, "conductor_spread_m": 3.0, "wind_swing_m": 1.0, "min_ground_clearance_m": 8.0}
HUNDRED_TEN_KV = {"nominal_kv": 110.0, "conductor_spread_m": 7.0, "wind_swing_m": 3.0, "min_ground_clearance_m": 20.0}


def line_at(desk: Desk, origin: LonLat, bearing: float, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return desk.line(geodesic_line(origin, bearing), **{**props, **extra})


def outside(origin: LonLat, bearing: float, props: dict[str, Any], distance_m: float) -> LonLat:
    """A point `distance_m` outside the outer conductor of a line with `props`."""
    return beside(origin, bearing, props["conductor_spread_m"] / 2 + distance_m)


def across(origin: LonLat, bearing: float, half_length_m: float = 30.0) -> dict[str, Any]:
    """A route crossing the line at right angles at `origin` (under the conductors)."""
    start, end = beside(origin, bearing, half_length_m, side=-1), beside(origin, bearing, half_length_m)
    return {"type": "LineString", "coordinates": [list(start), list(end)]}


def along(origin: LonLat, bearing: float, props: dict[str, Any], distance_m: float) -> dict[str, Any]:
    """A route running beside the line, `distance_m` outside its outer conductor."""
    return geodesic_line(outside(origin, bearing, props, distance_m), bearing, 20.0)


def crane_beside(origin: LonLat, bearing: float, props: dict[str, Any], edge_m: float, height_m: float,
                 radius_m: float = 10.0) -> dict[str, Any]:
    """A crane standing so that its working circle's edge is `edge_m` outside the outer conductor
    (negative: the circle reaches that far past it, under the line), as a screening item."""
    return {"geometry": point(outside(origin, bearing, props, radius_m + edge_m)), "activity": "crane",
            "parameters": {"max_height_m": height_m, "working_radius_m": radius_m}}


# --- kites (条例 §14) --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_kite_within_300_m_of_an_overhead_conductor_is_a_conflict_and_beyond_is_clear(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line = line_at(desk, origin, bearing, TEN_KV)

    near = desk.screen(point(outside(origin, bearing, TEN_KV, 299.5)), "kite_flying")
    far = desk.screen(point(outside(origin, bearing, TEN_KV, 300.5)), "kite_flying")

    kite = finding(near, "clearance.kite")
    assert near["verdict"] == "conflict" and kite["asset"]["id"] == line["id"]
    assert kite["required_m"] == 300.0 and kite["measured_m"] == pytest.approx(299.5, abs=0.05)
    assert_includes(kite["rule"], {"source": "电力设施保护条例 §14", "clause": "kite"})
    assert far["verdict"] == "clear" and far["findings"] == []


def test_a_kite_field_lists_every_overhead_line_within_300_m_with_its_distance_and_no_cable(desk: Desk) -> None:
    first = line_at(desk, HEFEI, NORTH, TEN_KV)
    second = line_at(desk, beside(HEFEI, NORTH, 120.0), NORTH, TEN_KV)
    desk.line(geodesic_line(beside(HEFEI, NORTH, 60.0), NORTH), construction="cable", nominal_kv=10.0)
    # A school field 40 m across whose near edge is 150 m beyond the second line's outer conductor.
    field = square(beside(HEFEI, NORTH, 120.0 + 1.5 + 150.0 + 20.0), 20.0)

    result = desk.screen(field, "kite_flying")

    distances = {f["asset"]["id"]: f["measured_m"] for f in result["findings"]}
    assert result["verdict"] == "conflict" and set(distances) == {first["id"], second["id"]}
    assert distances[second["id"]] == pytest.approx(150.0, abs=0.1)
    assert distances[first["id"]] == pytest.approx(270.0, abs=0.1)


def test_a_kite_needs_a_place_or_an_area_not_a_route(desk: Desk, owner_engine: Engine) -> None:
    response = desk.screen_response(geodesic_line(HEFEI, NORTH), "kite_flying")

    assert error_fields(response) == ["geometry.type"]
    assert count_rows(owner_engine, "screenings") == 0


# --- vehicles and machinery passing under lines (实施细则 §14, 条例 §17) -------------------------------------------------


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_vehicle_crossing_under_a_line_is_clear_up_to_4_m_conditional_above_and_a_conflict_within_the_gap(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, TEN_KV)  # lowest conductor 8.0 m: the 3.0 m gap ends at 5.0 m
    route = across(origin, bearing)

    low, tall, taller, too_tall = (desk.screen(route, "vehicle_passage", {"height_m": h}) for h in (3.9, 4.1, 4.9, 5.1))

    assert low["verdict"] == "clear"
    assert tall["verdict"] == "conditional" and rules_of(tall) == {("vehicle.over_height", "conditional")}
    assert_includes(finding(tall, "vehicle.over_height")["rule"], {"object_top_m": 4.1, "taller_than_m": 4.0})
    assert taller["verdict"] == "conditional"
    assert too_tall["verdict"] == "conflict"
    assert rules_of(too_tall) == {("vehicle.over_height", "conditional"), ("clearance.vehicle", "conflict")}
    gap = finding(too_tall, "clearance.vehicle")
    assert gap["required_m"] == 3.0 and gap["measured_m"] == pytest.approx(2.9, abs=1e-6)
    assert gap["rule"]["governing"] == "vertical"
    assert gap["rule"]["vertical"] == {"required_m": 3.0, "gap_m": pytest.approx(2.9), "conductor_height_m": 8.0,
                                       "conductor_height_is_default": False, "object_top_m": 5.1}
    assert gap["rule"]["horizontal"]["measured_m"] == 0.0 and gap["rule"]["horizontal"]["required_m"] == 2.0


@pytest.mark.parametrize(("origin", "bearing"), [pytest.param(SOUTH_45, EAST, id="45S-E-W"),
                                                 pytest.param(ARCTIC, NORTH, id="69.6N-N-S")])
def test_a_tall_vehicle_beside_a_line_keeps_clear_outside_the_horizontal_distance(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, TEN_KV)

    truck = {"height_m": 5.5, "width_m": 2.0}  # its sides 1.0 m either side of the route

    close = desk.screen(along(origin, bearing, TEN_KV, 1.0 + 1.9), "vehicle_passage", truck)
    apart = desk.screen(along(origin, bearing, TEN_KV, 1.0 + 2.1), "vehicle_passage", truck)

    found = finding(close, "clearance.vehicle")
    assert close["verdict"] == "conflict" and found["rule"]["governing"] == "horizontal"
    assert found["required_m"] == 2.0 and found["measured_m"] == pytest.approx(1.9, abs=0.02)
    assert apart["verdict"] == "clear"  # not under the conductors, and outside the horizontal distance


@pytest.mark.parametrize(("origin", "bearing"), [pytest.param(EQUATOR, NORTH, id="equator-N-S"),
                                                 pytest.param(ARCTIC, EAST, id="69.6N-E-W")])
def test_a_vehicle_is_under_the_line_when_its_side_is_whatever_its_route(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, TEN_KV)
    route = along(origin, bearing, TEN_KV, 1.0)  # the centre line 1.0 m outside the outer conductor

    wide = desk.screen(route, "vehicle_passage", {"height_m": 4.5})  # the widest road vehicle, 2.55 m
    narrow = desk.screen(route, "vehicle_passage", {"height_m": 4.5, "width_m": 1.8})

    assert wide["parameters"] == {"height_m": 4.5, "width_m": 2.55}
    assert wide["verdict"] == "conditional" and rules_of(wide) == {("vehicle.over_height", "conditional")}
    assert narrow["verdict"] == "clear"  # its side 0.1 m outside; 3.5 m below the conductor keeps the 3.0 m


def test_a_line_without_a_recorded_height_uses_the_lowest_its_voltage_allows_and_says_so(desk: Desk) -> None:
    desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=110.0, conductor_spread_m=7.0)  # default: 6.0 m

    result = desk.screen(across(HEFEI, NORTH), "vehicle_passage", {"height_m": 1.1})

    gap = finding(result, "clearance.vehicle")
    assert result["verdict"] == "conflict" and gap["required_m"] == 5.0
    assert gap["measured_m"] == pytest.approx(4.9, abs=1e-6)
    assert_includes(gap["rule"]["vertical"], {"conductor_height_m": 6.0, "conductor_height_is_default": True})


def test_a_vehicle_may_be_screened_over_the_area_it_moves_in(desk: Desk) -> None:
    line_at(desk, HEFEI, NORTH, TEN_KV)
    yard = square(outside(HEFEI, NORTH, TEN_KV, 1.0 + 20.0), 20.0)  # its edge 1.0 m outside the conductor

    result = desk.screen(yard, "vehicle_passage", {"height_m": 4.5})

    assert result["verdict"] == "conditional" and rules_of(result) == {("vehicle.over_height", "conditional")}


@pytest.mark.parametrize(("geometry", "parameters", "field"), [
    (geodesic_line(HEFEI, EAST), {}, "parameters.height_m"),
    (geodesic_line(HEFEI, EAST), {"height_m": 0}, "parameters.height_m"),
    (geodesic_line(HEFEI, EAST), {"height_m": 31}, "parameters.height_m"),
    (geodesic_line(HEFEI, EAST), {"height_m": 4.5, "width_m": 0}, "parameters.width_m"),
])
def test_a_vehicle_passage_needs_a_height_and_a_width_in_range(desk: Desk, owner_engine: Engine,
                                                               geometry: dict[str, Any], parameters: dict[str, Any],
                                                               field: str) -> None:
    response = desk.screen_response(geometry, "vehicle_passage", parameters)

    assert error_fields(response) == [field]
    assert count_rows(owner_engine, "screenings") == 0


# --- buildings under and beside lines (JGJ 46 §4.1.2) ------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_site_under_a_line_keeps_the_vertical_distance_and_one_beside_it_the_horizontal(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, TEN_KV, min_ground_clearance_m=12.0)  # 6.0 m gap: tops up to 6.0 m
    under = square(origin, 5.0)

    low = desk.screen(under, "building", {"height_m": 5.9})
    high = desk.screen(under, "building", {"height_m": 6.1})
    shed_close = desk.screen(point(outside(origin, bearing, TEN_KV, 5.9)), "building", {"height_m": 1.0})
    shed_apart = desk.screen(point(outside(origin, bearing, TEN_KV, 6.1)), "building", {"height_m": 1.0})

    # Under the line a building is inside the zone anyway (banned, 条例 §15); the clearance adds the vertical test.
    assert low["verdict"] == "conflict" and "clearance.building" not in {c for c, _ in rules_of(low)}
    vertical = finding(high, "clearance.building")
    assert vertical["outcome"] == "conditional" and vertical["rule"]["governing"] == "vertical"
    assert vertical["required_m"] == 6.0 and vertical["measured_m"] == pytest.approx(5.9, abs=1e-6)
    assert vertical["rule"]["horizontal"] == {"required_m": 6.0, "measured_m": 0.0}
    # Beside the line the horizontal test is today's, whatever the height.
    horizontal = finding(shed_close, "clearance.building")
    assert horizontal["rule"]["governing"] == "horizontal" and horizontal["required_m"] == 6.0
    assert horizontal["measured_m"] == pytest.approx(5.9, abs=0.02)
    assert horizontal["rule"]["vertical"]["gap_m"] == pytest.approx(11.0)
    assert shed_apart["verdict"] == "clear"


# --- cranes (JGJ 46 §4.1.4) --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_crane_reaching_under_a_line_keeps_the_vertical_distance_and_beside_it_the_horizontal(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, HUNDRED_TEN_KV)  # 110 kV, lowest conductor 20 m: booms up to 15 m under it

    reaching = [desk.screen(**crane_beside(origin, bearing, HUNDRED_TEN_KV, -2.0, h)) for h in (14.9, 15.1)]
    beside_close = desk.screen(**crane_beside(origin, bearing, HUNDRED_TEN_KV, 3.9, 5.0))
    beside_apart = desk.screen(**crane_beside(origin, bearing, HUNDRED_TEN_KV, 4.1, 5.0))

    low, high = reaching
    assert low["verdict"] == "conditional" and "clearance.crane" not in {c for c, _ in rules_of(low)}
    vertical = finding(high, "clearance.crane")
    assert high["verdict"] == "conflict" and vertical["rule"]["governing"] == "vertical"
    assert vertical["required_m"] == 5.0 and vertical["measured_m"] == pytest.approx(4.9, abs=1e-6)
    assert_includes(vertical["rule"], {"clause": "crane_clearance", "vertical_source": "JGJ 46-2005 §4.1.4"})
    horizontal = finding(beside_close, "clearance.crane")
    assert beside_close["verdict"] == "conflict" and horizontal["rule"]["governing"] == "horizontal"
    assert horizontal["required_m"] == 4.0 and horizontal["measured_m"] == pytest.approx(3.9, abs=0.02)
    assert "clearance.crane" not in {c for c, _ in rules_of(beside_apart)}


# --- trees by voltage (实施细则 §16) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_low_shrub_under_a_110_kv_line_is_conditional_and_a_tree_that_grows_into_the_gap_a_conflict(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, HUNDRED_TEN_KV, min_ground_clearance_m=10.0)  # 4.0 m gap: up to 6.0 m
    under = point(origin)

    shrub = desk.screen(under, "tree_planting", {"mature_height_m": 5.9})
    tree = desk.screen(under, "tree_planting", {"mature_height_m": 6.1})
    unknown = desk.screen(under, "tree_planting")

    assert shrub["verdict"] == "conditional" and rules_of(shrub) == {("zone.overhead.general", "conditional")}
    found = finding(tree, "clearance.tree")
    assert tree["verdict"] == "conflict" and found["rule"]["governing"] == "vertical"
    assert found["required_m"] == 4.0 and found["measured_m"] == pytest.approx(3.9, abs=1e-6)
    assert "utility_value" not in found["rule"]
    assert unknown["verdict"] == "conflict" and finding(unknown, "clearance.tree")["rule"]["vertical"]["gap_m"] is None


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_a_poplar_beside_a_110_kv_line_must_stand_beyond_the_wind_swing_plus_3_5_m(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, HUNDRED_TEN_KV)  # wind swing 3.0 m: 6.5 m from the conductor at rest
    poplar = {"mature_height_m": 25.0}

    close = desk.screen(point(outside(origin, bearing, HUNDRED_TEN_KV, 6.4)), "tree_planting", poplar)
    apart = desk.screen(point(outside(origin, bearing, HUNDRED_TEN_KV, 6.6)), "tree_planting", poplar)

    found = finding(close, "clearance.tree")
    assert close["verdict"] == "conflict" and found["rule"]["governing"] == "horizontal"
    assert found["required_m"] == 6.5 and found["measured_m"] == pytest.approx(6.4, abs=0.02)
    assert found["rule"]["horizontal"]["wind_swing_m"] == 3.0
    assert found["rule"]["vertical"]["gap_m"] == pytest.approx(-5.0)
    assert apart["verdict"] == "conditional" and rules_of(apart) == {("zone.overhead.general", "conditional")}


@pytest.mark.parametrize(("origin", "bearing"), [pytest.param(EQUATOR, EAST, id="equator-E-W"),
                                                 pytest.param(ARCTIC, NORTH, id="69.6N-N-S")])
def test_below_35_kv_trees_take_the_utilitys_own_values_and_the_finding_says_so(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, TEN_KV)  # 8.0 m conductor, 3.0 m gap: up to 5.0 m; 2.0 + 1.0 m beside

    kept = desk.screen(point(origin), "tree_planting", {"mature_height_m": 4.9})
    broken = desk.screen(point(origin), "tree_planting", {"mature_height_m": 5.1})
    beside_close = desk.screen(point(outside(origin, bearing, TEN_KV, 2.9)), "tree_planting", {"mature_height_m": 9.0})
    beside_apart = desk.screen(point(outside(origin, bearing, TEN_KV, 3.1)), "tree_planting", {"mature_height_m": 9.0})

    assert kept["verdict"] == "conditional"
    under = finding(broken, "clearance.tree")
    assert broken["verdict"] == "conflict" and under["required_m"] == 3.0 and under["rule"]["utility_value"] is True
    assert finding(beside_close, "clearance.tree")["required_m"] == 3.0
    assert beside_apart["verdict"] == "conditional"


def test_a_tree_on_a_cable_route_is_still_a_conflict(desk: Desk) -> None:
    desk.line(geodesic_line(HEFEI, NORTH), construction="cable", nominal_kv=10.0)

    result = desk.screen(point(beside(HEFEI, NORTH, 0.5)), "tree_planting", {"mature_height_m": 2.0})

    assert result["verdict"] == "conflict" and rules_of(result) == {("zone.cable", "conflict")}


# --- the US set: OSHA distances in any direction -----------------------------------------------------------------------


US_LINE = {"nominal_kv": 13.8, "conductor_spread_m": 2.0, "min_ground_clearance_m": 12.0}


@pytest.mark.parametrize(("origin", "bearing"), [pytest.param(NORTH_AMERICA, NORTH, id="40N-N-S"),
                                                 pytest.param(SOUTH_45, EAST, id="45S-E-W")])
def test_osha_crane_clearances_apply_vertically_under_a_line_and_a_low_boom_beside_it_is_clear(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, US_LINE)  # Table A 3.048 m, planning 6.096 m below a 12 m conductor

    planning = desk.screen(**crane_beside(origin, bearing, US_LINE, -2.0, 8.8), rule_set=US)
    table_a = desk.screen(**crane_beside(origin, bearing, US_LINE, -2.0, 9.0), rule_set=US)
    low_beside = desk.screen(**crane_beside(origin, bearing, US_LINE, 2.0, 5.0), rule_set=US)

    assert planning["verdict"] == "conditional"
    assert rules_of(planning) == {("clearance.crane.planning", "conditional")}
    assert table_a["verdict"] == "conflict"
    assert finding(table_a, "clearance.crane.table_a")["measured_m"] == pytest.approx(3.0, abs=1e-6)
    assert low_beside["verdict"] == "clear"  # 7 m below the conductor: farther than 20 ft in any direction


@pytest.mark.parametrize(("origin", "bearing"), [pytest.param(NORTH_AMERICA, EAST, id="40N-E-W"),
                                                 pytest.param(ARCTIC, NORTH, id="69.6N-N-S")])
def test_osha_table_t_governs_equipment_travelling_under_a_line_and_there_is_no_4_m_rule(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    line_at(desk, origin, bearing, US_LINE, min_ground_clearance_m=6.4)

    kept = desk.screen(across(origin, bearing), "vehicle_passage", {"height_m": 4.5}, rule_set=US)
    broken = desk.screen(across(origin, bearing), "vehicle_passage", {"height_m": 4.6}, rule_set=US)

    assert kept["verdict"] == "clear"
    travel = finding(broken, "clearance.travel.table_t")
    assert broken["verdict"] == "conflict" and travel["required_m"] == 1.829
    assert travel["measured_m"] == pytest.approx(1.8, abs=1e-6)


def test_the_us_set_has_no_kite_rule_and_says_what_it_covers(desk: Desk) -> None:
    response = desk.screen_response(point(HEFEI), "kite_flying", rule_set=US)

    body = error_fields(response)
    assert body == ["activity"]


# --- the same batch path -----------------------------------------------------------------------------------------------


def test_a_batch_of_every_new_activity_answers_as_each_would_alone(client: TestClient, desk: Desk) -> None:
    near = line_at(desk, HEFEI, NORTH, HUNDRED_TEN_KV)
    line_at(desk, beside(HEFEI, NORTH, 150.0), NORTH, TEN_KV)  # within a kite's 300 m, far from the rest
    items = [
        {"geometry": point(outside(HEFEI, NORTH, HUNDRED_TEN_KV, 100.0)), "activity": "kite_flying"},
        {"geometry": across(HEFEI, NORTH), "activity": "vehicle_passage", "parameters": {"height_m": 15.5}},
        {"geometry": point(HEFEI), "activity": "tree_planting", "parameters": {"mature_height_m": 16.5}},
        crane_beside(HEFEI, NORTH, HUNDRED_TEN_KV, -2.0, 15.1),
        {"geometry": square(HEFEI, 5.0), "activity": "building", "parameters": {"height_m": 15.1}},
    ]

    response = client.post(f"{SCREENINGS}/batch", json={"items": items}, headers=desk.headers)

    assert response.status_code == 201, response.text
    batch = response.json()
    alone = [desk.screen(item["geometry"], item["activity"], item.get("parameters")) for item in items]
    for together, single in zip(batch, alone, strict=True):
        assert together["verdict"] == single["verdict"]
        assert together["findings"] == single["findings"]
    kite, vehicle, tree, crane, building = batch
    assert len(kite["findings"]) == 2
    assert {f["asset"]["id"] for f in crane["findings"]} == {near["id"]}  # the kite's reach is not the crane's
    assert finding(vehicle, "clearance.vehicle")["rule"]["governing"] == "vertical"
    assert [f["rule"]["governing"] for f in (finding(tree, "clearance.tree"), finding(crane, "clearance.crane"),
                                            finding(building, "clearance.building"))] == ["vertical"] * 3


# --- the line attribute -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1.0, 300.5])
def test_a_lowest_conductor_height_out_of_range_is_refused(client: TestClient, desk: Desk, value: float) -> None:
    body = {"type": "Feature", "geometry": geodesic_line(HEFEI, NORTH),
            "properties": {"external_id": "L-H", "construction": "overhead", "nominal_kv": 10.0,
                           "min_ground_clearance_m": value}}

    response = client.post("/api/v1/network/lines", json=body, headers=desk.headers)

    assert error_fields(response) == ["properties.min_ground_clearance_m"]
