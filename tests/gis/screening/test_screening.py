"""Screening (issue 3 §3): a geometry, an activity and its parameters in; a verdict explained by
rule, legal source and measured distance out, at any latitude.

Every case is built by hand: a line along one geodesic through a reference point, and request
geometry placed with `pyproj.Geod` at a known distance at right angles to it. Distances are
measured from the outermost conductor, i.e. the centre-line distance minus half the spread; a
10 kV line with a 3.0 m spread has its outer conductors 1.5 m either side of the centre line.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pyproj import Transformer
from sqlalchemy import Engine, text

from core.permissions import Role
from core.settings import Settings
from gis.screening.settings import screening_settings
from tests.gis.screening.conftest import (
    ARCTIC,
    BEARINGS,
    EAST,
    EQUATOR,
    FAR_NORTH,
    GEOD,
    HEFEI,
    LATITUDES,
    NORTH,
    NORTH_45,
    SCREENINGS,
    SITES,
    SOUTH_45,
    Desk,
    LonLat,
    assert_includes,
    assert_problem,
    beside,
    count_rows,
    error_fields,
    finding,
    geodesic_length,
    geodesic_line,
    moved,
    point,
    rules_of,
    square,
)

HALF_SPREAD = 1.5  # conductor_spread_m = 3.0
BUILDING = {"height_m": 12.0}
DIGGING = {"depth_m": 2.0}
BLAST = {"charge_kg": 25.0}
CRANE = {"max_height_m": 30.0, "working_radius_m": 10.0}  # a crane given by its standing point


def overhead(desk: Desk, origin: LonLat, bearing: float, **props: Any) -> dict[str, Any]:
    """A 10 kV overhead line with a 3.0 m spread (unless `props` say otherwise) through `origin`."""
    return desk.line(geodesic_line(origin, bearing), **{"nominal_kv": 10.0, "conductor_spread_m": 3.0, **props})


def from_conductor(origin: LonLat, bearing: float, distance_m: float, *, side: int = 1) -> LonLat:
    """A point `distance_m` outside the outer conductor of a 3.0 m spread line."""
    return beside(origin, bearing, HALF_SPREAD + distance_m, side=side)


# --- the spread offset, cables, built-up areas -------------------------------------------------------------------


@pytest.mark.parametrize("bearing", BEARINGS)
@pytest.mark.parametrize("origin", LATITUDES)
def test_premises_within_half_spread_plus_five_metres_need_approval_and_beyond_are_clear(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    overhead(desk, origin, bearing)

    inside = desk.screen(point(beside(origin, bearing, 6.4)), "connection")
    outside = desk.screen(point(beside(origin, bearing, 6.6, side=-1)), "connection")

    assert inside["verdict"] == "conditional"
    general = finding(inside, "zone.overhead.general")
    assert general["outcome"] == "conditional" and general["required_m"] == 5.0
    assert general["measured_m"] == pytest.approx(4.9, abs=0.05)
    assert outside["verdict"] == "clear" and outside["findings"] == []


@pytest.mark.parametrize("bearing", BEARINGS)
@pytest.mark.parametrize("origin", LATITUDES)
def test_cable_zone_reaches_three_quarters_of_a_metre(desk: Desk, origin: LonLat, bearing: float) -> None:
    desk.line(geodesic_line(origin, bearing), construction="cable", nominal_kv=10.0)

    inside = desk.screen(point(beside(origin, bearing, 0.70)), "connection")
    outside = desk.screen(point(beside(origin, bearing, 0.80, side=-1)), "connection")

    cable = finding(inside, "zone.cable")
    assert inside["verdict"] == "conditional" and cable["required_m"] == 0.75
    assert cable["measured_m"] == pytest.approx(0.70, abs=0.05) and cable["asset"]["construction"] == "cable"
    assert outside["verdict"] == "clear"


@pytest.mark.parametrize(("wind_swing_m", "swing_used"), [(2.0, 2.0), (None, 1.0)], ids=["line-swing", "default"])
def test_in_a_built_up_area_the_zone_is_wind_swing_plus_safety_distance(desk: Desk, wind_swing_m: float | None,
                                                                        swing_used: float) -> None:
    overhead(desk, HEFEI, EAST, wind_swing_m=wind_swing_m)
    desk.create("zones/built_up_areas", square(HEFEI, 100.0))  # the line runs on 150 m beyond HEFEI either way
    built_up_half = HALF_SPREAD + swing_used + 1.5
    in_town, out_of_town = HEFEI, moved(HEFEI, EAST, 130.0)

    near_in_town = desk.screen(point(beside(in_town, EAST, built_up_half - 0.1)), "connection")
    beyond_in_town = desk.screen(point(beside(in_town, EAST, built_up_half + 0.1)), "connection")
    same_distance_out_of_town = desk.screen(point(beside(out_of_town, EAST, built_up_half + 0.1)), "connection")

    built_up = finding(near_in_town, "zone.overhead.built_up")
    assert near_in_town["verdict"] == "conditional" and len(near_in_town["findings"]) == 1
    assert built_up["required_m"] == swing_used + 1.5 and built_up["rule"]["wind_swing_m"] == swing_used
    assert built_up["measured_m"] == pytest.approx(swing_used + 1.4, abs=0.05)
    assert built_up["rule"]["source"] == "电力设施保护条例实施细则 §5"
    assert beyond_in_town["verdict"] == "clear"
    assert same_distance_out_of_town["verdict"] == "conditional"
    assert rules_of(same_distance_out_of_town) == {("zone.overhead.general", "conditional")}


def test_a_line_with_the_widest_spread_and_swing_it_may_record_is_still_found(desk: Desk) -> None:
    """60 m between outer conductors and a 30 m wind swing (the largest a line may record) put a
    10 kV built-up zone 30 + 30 + 1.5 = 61.5 m from the centre line: screening must search that far."""
    overhead(desk, HEFEI, EAST, conductor_spread_m=60.0, wind_swing_m=30.0)
    desk.create("zones/built_up_areas", square(HEFEI, 100.0))

    inside = desk.screen(point(beside(HEFEI, EAST, 61.0)), "connection")
    outside = desk.screen(point(beside(HEFEI, EAST, 62.0)), "connection")

    built_up = finding(inside, "zone.overhead.built_up")
    assert built_up["required_m"] == 31.5 and built_up["measured_m"] == pytest.approx(31.0, abs=0.05)
    assert outside["verdict"] == "clear"


# --- activities under the CN rule set ---------------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_building_inside_the_zone_is_a_conflict_and_within_jgj46_clearance_needs_approval(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    overhead(desk, origin, bearing)

    in_zone = desk.screen(point(from_conductor(origin, bearing, 4.0)), "building", BUILDING)
    in_clearance = desk.screen(point(from_conductor(origin, bearing, 5.5)), "building", BUILDING)
    beyond = desk.screen(point(from_conductor(origin, bearing, 6.2)), "building", BUILDING)

    assert in_zone["verdict"] == "conflict"
    assert rules_of(in_zone) == {("zone.overhead.general", "conflict"), ("clearance.building", "conditional")}
    assert in_clearance["verdict"] == "conditional"
    assert rules_of(in_clearance) == {("clearance.building", "conditional")}
    clearance = finding(in_clearance, "clearance.building")
    assert clearance["required_m"] == 6.0 and clearance["measured_m"] == pytest.approx(5.5, abs=0.05)
    assert clearance["rule"]["source"] == "JGJ 46-2005 §4.1.2"
    assert beyond["verdict"] == "clear"


def test_building_footprint_is_measured_from_its_nearest_edge(desk: Desk) -> None:
    overhead(desk, HEFEI, NORTH)
    footprint = square(from_conductor(HEFEI, NORTH, 5.5 + 5.0), 5.0)  # 10 m square, near edge 5.5 m away

    result = desk.screen(footprint, "building", BUILDING)

    assert result["verdict"] == "conditional"
    assert finding(result, "clearance.building")["measured_m"] == pytest.approx(5.5, abs=0.05)


def test_building_over_a_cable_is_a_conflict(desk: Desk) -> None:
    desk.line(geodesic_line(ARCTIC, EAST), construction="cable", nominal_kv=10.0)

    result = desk.screen(point(beside(ARCTIC, EAST, 0.5)), "building", BUILDING)

    assert result["verdict"] == "conflict" and rules_of(result) == {("zone.cable", "conflict")}


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_digging_near_a_pole_is_a_conflict_and_elsewhere_in_the_zone_needs_approval(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    overhead(desk, origin, bearing)
    pole = desk.create("poles", point(origin), kind="pole", nominal_kv=10.0)
    along = moved(origin, bearing, 60.0)

    at_pole = desk.screen(point(beside(origin, bearing, 4.9)), "excavation", DIGGING)
    between_poles = desk.screen(point(beside(along, bearing, 4.9)), "excavation", DIGGING)

    assert at_pole["verdict"] == "conflict"
    assert rules_of(at_pole) == {("foundation.excavation", "conflict"), ("zone.overhead.general", "conditional")}
    foundation = finding(at_pole, "foundation.excavation")
    assert foundation["asset"]["layer"] == "poles" and foundation["asset"]["id"] == pole["id"]
    assert foundation["required_m"] == 5.0 and foundation["measured_m"] == pytest.approx(4.9, abs=0.05)
    assert foundation["rule"]["source"] == "电力设施保护条例实施细则 §12"
    assert between_poles["verdict"] == "conditional"
    assert rules_of(between_poles) == {("zone.overhead.general", "conditional")}


def test_digging_in_a_cable_zone_needs_approval(desk: Desk) -> None:
    desk.line(geodesic_line(SOUTH_45, NORTH), construction="cable", nominal_kv=10.0)

    on_cable = desk.screen(point(beside(SOUTH_45, NORTH, 0.6)), "excavation", DIGGING)
    beside_cable = desk.screen(point(beside(SOUTH_45, NORTH, 0.9)), "excavation", DIGGING)

    assert on_cable["verdict"] == "conditional" and rules_of(on_cable) == {("zone.cable", "conditional")}
    assert beside_cable["verdict"] == "clear"


@pytest.mark.parametrize(("kind", "nominal_kv", "required_m"), [
    ("pole", 10.0, 5.0), ("pole", 35.0, 5.0), ("tower", 66.0, 10.0), ("tower", 110.0, 10.0)])
@pytest.mark.parametrize("origin", LATITUDES)
def test_foundation_distance_is_five_metres_up_to_35_kv_and_ten_from_66_kv(
        desk: Desk, origin: LonLat, kind: str, nominal_kv: float, required_m: float) -> None:
    desk.create("poles", point(origin), kind=kind, nominal_kv=nominal_kv)

    inside = desk.screen(point(moved(origin, 30.0, required_m - 0.1)), "excavation", DIGGING)
    outside = desk.screen(point(moved(origin, 210.0, required_m + 0.1)), "excavation", DIGGING)

    foundation = finding(inside, "foundation.excavation")
    assert inside["verdict"] == "conflict" and foundation["required_m"] == required_m
    assert foundation["measured_m"] == pytest.approx(required_m - 0.1, abs=0.05)
    assert outside["verdict"] == "clear"


def test_trench_across_a_line_is_measured_as_touching_it(desk: Desk) -> None:
    overhead(desk, ARCTIC, NORTH)
    trench = {"type": "LineString", "coordinates": [list(beside(ARCTIC, NORTH, 20.0)),
                                                    list(beside(ARCTIC, NORTH, 20.0, side=-1))]}

    result = desk.screen(trench, "excavation", DIGGING)

    zone = finding(result, "zone.overhead.general")
    assert result["verdict"] == "conditional" and zone["measured_m"] == 0.0 and zone["shortfall_m"] == 5.0


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_crane_circle_within_clearance_is_a_conflict_and_in_the_zone_needs_approval(
        desk: Desk, origin: LonLat, bearing: float) -> None:
    overhead(desk, origin, bearing)
    radius = CRANE["working_radius_m"]

    too_close = desk.screen(point(from_conductor(origin, bearing, 1.5 + radius)), "crane", CRANE)
    in_zone = desk.screen(point(from_conductor(origin, bearing, 4.0 + radius)), "crane", CRANE)
    clear = desk.screen(point(from_conductor(origin, bearing, 5.2 + radius)), "crane", CRANE)

    assert too_close["verdict"] == "conflict"
    assert rules_of(too_close) == {("clearance.crane", "conflict"), ("zone.overhead.general", "conditional")}
    crane = finding(too_close, "clearance.crane")
    assert crane["required_m"] == 2.0 and crane["measured_m"] == pytest.approx(1.5, abs=0.05)
    assert in_zone["verdict"] == "conditional" and rules_of(in_zone) == {("zone.overhead.general", "conditional")}
    assert clear["verdict"] == "clear"
    circle = too_close["geometry"]
    centre = from_conductor(origin, bearing, 1.5 + radius)
    assert circle["type"] == "Polygon"
    assert all(GEOD.inv(*centre, *corner)[2] == pytest.approx(radius, abs=0.01) for corner in circle["coordinates"][0])


def test_crane_operating_area_polygon_is_screened_as_drawn(desk: Desk) -> None:
    overhead(desk, ARCTIC, NORTH)
    area = square(from_conductor(ARCTIC, NORTH, 1.0 + 20.0), 20.0)  # 40 m square, near edge 1.0 m away

    result = desk.screen(area, "crane", {"max_height_m": 25.0})

    assert result["verdict"] == "conflict"
    assert finding(result, "clearance.crane")["measured_m"] == pytest.approx(1.0, abs=0.05)


def test_crane_given_as_a_point_without_working_radius_is_refused(desk: Desk, owner_engine: Engine) -> None:
    response = desk.screen_response(point(HEFEI), "crane", {"max_height_m": 30.0})

    assert error_fields(response) == ["parameters.working_radius_m"]
    assert count_rows(owner_engine, "screenings") == 0


@pytest.mark.parametrize("origin", LATITUDES)
def test_blasting_within_500_m_of_a_transformer_needs_approval(desk: Desk, origin: LonLat) -> None:
    transformer = desk.create("transformers", point(origin))

    near = desk.screen(point(moved(origin, 60.0, 480.0)), "blasting", BLAST)
    far = desk.screen(point(moved(origin, 240.0, 520.0)), "blasting", BLAST)

    blasting = finding(near, "radius.blasting")
    assert near["verdict"] == "conditional" and blasting["asset"]["layer"] == "transformers"
    assert blasting["asset"]["id"] == transformer["id"] and blasting["required_m"] == 500.0
    assert blasting["measured_m"] == pytest.approx(480.0, abs=0.05)
    assert blasting["rule"]["source"] == "电力设施保护条例实施细则 §10"
    assert far["verdict"] == "clear"


def test_blasting_distance_to_a_line_is_from_its_own_outer_conductor(desk: Desk) -> None:
    overhead(desk, HEFEI, NORTH)  # 3.0 m spread, where the 10 kV default would be 1.5 m

    inside = desk.screen(point(beside(HEFEI, NORTH, 501.0)), "blasting", BLAST)
    outside = desk.screen(point(beside(HEFEI, NORTH, 501.7)), "blasting", BLAST)

    assert inside["verdict"] == "conditional"
    assert finding(inside, "radius.blasting")["measured_m"] == pytest.approx(499.5, abs=0.05)
    assert outside["verdict"] == "clear"


def test_blasting_distance_to_a_line_without_a_recorded_spread_is_from_its_default_outer_conductor(
        desk: Desk) -> None:
    desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=380.0)  # default spread 14.0 m: outer conductor 7 m out

    inside = desk.screen(point(beside(HEFEI, NORTH, 506.5)), "blasting", BLAST)
    outside = desk.screen(point(beside(HEFEI, NORTH, 507.5)), "blasting", BLAST)

    assert inside["verdict"] == "conditional"
    assert finding(inside, "radius.blasting")["measured_m"] == pytest.approx(499.5, abs=0.05)
    assert outside["verdict"] == "clear"


def test_premises_inside_a_manual_zone_need_approval_only_while_it_is_in_force(desk: Desk) -> None:
    expired = desk.create("zones/manual", square(HEFEI, 50.0), valid_from="2020-01-01", valid_to="2021-12-31")
    in_force_site = moved(HEFEI, EAST, 1000.0)
    in_force = desk.create("zones/manual", square(in_force_site, 50.0), valid_from="2020-01-01")
    future_site = moved(HEFEI, NORTH, 1000.0)
    desk.create("zones/manual", square(future_site, 50.0), valid_from="2999-01-01")

    today_in_force = desk.screen(point(in_force_site), "connection")
    today_expired = desk.screen(point(HEFEI), "connection")
    back_in_2021 = desk.screen(point(HEFEI), "connection", on_date="2021-06-01")
    not_yet = desk.screen(point(future_site), "connection")

    manual = finding(today_in_force, "zone.manual")
    assert today_in_force["verdict"] == "conditional"
    assert manual["asset"]["layer"] == "manual_zones" and manual["asset"]["id"] == in_force["id"]
    assert manual["rule"]["authority"] == "County power bureau" and manual["rule"]["source"].startswith("电力设施保护条例 §11")
    assert today_expired["verdict"] == "clear" and not_yet["verdict"] == "clear"
    assert back_in_2021["verdict"] == "conditional"
    assert finding(back_in_2021, "zone.manual")["asset"]["id"] == expired["id"]


# --- a second jurisdiction ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "bearing"), SITES)
def test_crane_under_us_rules_within_table_a_ten_feet_is_a_conflict(desk: Desk, origin: LonLat,
                                                                    bearing: float) -> None:
    overhead(desk, origin, bearing)
    us = {"rule_set": "US-OSHA"}

    within_10_ft = desk.screen(point(from_conductor(origin, bearing, 2.9 + 10.0)), "crane", CRANE, **us)
    within_20_ft = desk.screen(point(from_conductor(origin, bearing, 5.0 + 10.0)), "crane", CRANE, **us)
    beyond = desk.screen(point(from_conductor(origin, bearing, 6.3 + 10.0)), "crane", CRANE, **us)

    assert within_10_ft["rule_set"]["code"] == "US-OSHA" and within_10_ft["verdict"] == "conflict"
    assert rules_of(within_10_ft) == {("clearance.crane.table_a", "conflict"),
                                      ("clearance.crane.planning", "conditional")}
    table_a = finding(within_10_ft, "clearance.crane.table_a")
    assert table_a["required_m"] == 3.048 and table_a["measured_m"] == pytest.approx(2.9, abs=0.05)
    assert table_a["rule"]["source"] == "29 CFR 1926.1408(a)(2)(iii) and Table A"
    assert within_20_ft["verdict"] == "conditional"
    assert rules_of(within_20_ft) == {("clearance.crane.planning", "conditional")}
    assert beyond["verdict"] == "clear"


def test_building_under_us_rules_is_refused_as_not_covered(desk: Desk, owner_engine: Engine) -> None:
    response = desk.screen_response(point(HEFEI), "building", BUILDING, rule_set="US-OSHA")

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["activity"] and "crane" in body["detail"]
    assert count_rows(owner_engine, "screenings") == 0


# --- what a finding says -------------------------------------------------------------------------------------------


def test_finding_names_the_asset_the_rule_its_source_and_the_distances(desk: Desk) -> None:
    line = overhead(desk, ARCTIC, EAST, name="Hammerfest 10 kV", external_id="NO-HFT-07")
    spot = beside(ARCTIC, EAST, 6.0)

    result = desk.screen(point(spot), "tree_planting")

    found = finding(result, "zone.overhead.general")
    assert found["asset"] == {"layer": "lines", "id": line["id"], "external_id": "NO-HFT-07",
                              "name": "Hammerfest 10 kV", "nominal_kv": 10.0, "construction": "overhead"}
    assert_includes(found["rule"], {"code": "zone.overhead.general", "source": "电力设施保护条例 §10(1)",
                                    "title": "Overhead line protection zone (general area)",
                                    "title_zh": "架空电力线路保护区（一般地区）", "conductor_offset_m": 1.5})
    assert found["outcome"] == "conditional" and found["required_m"] == 5.0
    assert found["measured_m"] == pytest.approx(4.5, abs=0.05)
    assert found["shortfall_m"] == pytest.approx(found["required_m"] - found["measured_m"], abs=0.001)
    connector = found["nearest_points"]
    assert connector["type"] == "LineString" and len(connector["coordinates"]) == 2
    assert geodesic_length(connector) == pytest.approx(6.0, abs=0.05)
    assert GEOD.inv(*connector["coordinates"][0], *spot)[2] == pytest.approx(0.0, abs=0.01)
    assert GEOD.inv(*connector["coordinates"][1], *ARCTIC)[2] == pytest.approx(0.0, abs=0.05)


def test_stored_screening_reads_back_as_it_was_answered(desk: Desk) -> None:
    overhead(desk, HEFEI, NORTH)
    made = desk.screen(point(beside(HEFEI, NORTH, 5.0)), "building", BUILDING, reference="Plot 17")

    again = desk.client.get(f"{SCREENINGS}/{made['id']}", headers=desk.headers)

    assert again.status_code == 200, again.text
    assert {k: v for k, v in again.json().items() if k != "geometry"} == {
        k: v for k, v in made.items() if k != "geometry"}
    assert again.json()["geometry"]["coordinates"] == pytest.approx(made["geometry"]["coordinates"], abs=1e-9)
    assert made["reference"] == "Plot 17" and made["screened_by"] == "test-dispatcher"


# --- nearest distribution transformers -----------------------------------------------------------------------------


def test_three_nearest_distribution_transformers_with_their_spare_capacity(desk: Desk) -> None:
    site = HEFEI
    desk.create("transformers", point(moved(site, 10.0, 50.0)), hv_kv=110.0, lv_kv=20.0, rated_kva=50_000.0)
    t1 = desk.create("transformers", point(moved(site, 90.0, 100.0)), rated_kva=630.0)
    t2 = desk.create("transformers", point(moved(site, 180.0, 200.0)), rated_kva=800.0)
    t3 = desk.create("transformers", point(moved(site, 270.0, 300.0)), rated_kva=400.0)
    desk.create("transformers", point(moved(site, 45.0, 400.0)), rated_kva=1000.0)
    for transformer, load_kw in ((t1, 100.0), (t1, 150.0), (t3, 300.0)):
        desk.create("customers", point(moved(site, 0.0, 20.0)), transformer_id=transformer["id"],
                    contracted_load_kw=load_kw)

    asked = desk.screen(point(site), "connection", {"requested_load_kw": 320.0})
    unasked = desk.screen(point(site), "connection")

    listed = asked["nearest_transformers"]
    assert [t["id"] for t in listed] == [t1["id"], t2["id"], t3["id"]]
    assert [t["distance_m"] for t in listed] == pytest.approx([100.0, 200.0, 300.0], abs=0.05)
    assert [t["rated_kva"] for t in listed] == [630.0, 800.0, 400.0]
    assert [t["contracted_load_kw"] for t in listed] == [250.0, 0.0, 300.0]
    assert [t["spare_kw"] for t in listed] == pytest.approx([630 * 0.9 - 250, 800 * 0.9, 400 * 0.9 - 300])
    assert [t["enough_for_request"] for t in listed] == [False, True, False]
    assert [t["enough_for_request"] for t in unasked["nearest_transformers"]] == [None, None, None]


# --- bad input ---------------------------------------------------------------------------------------------------


def _bowtie() -> dict[str, Any]:
    a, b = moved(HEFEI, EAST, 50.0), moved(HEFEI, NORTH, 50.0)
    c = (a[0], b[1])
    return {"type": "Polygon", "coordinates": [[list(HEFEI), list(c), list(a), list(b), list(HEFEI)]]}


def _clockwise(polygon: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [list(reversed(polygon["coordinates"][0]))]}


def _two_sites_of_1_44_km2_drawn_in_opposite_directions() -> dict[str, Any]:
    first, second = square(HEFEI, 600.0), _clockwise(square(moved(HEFEI, EAST, 5000.0), 600.0))
    return {"type": "MultiPolygon", "coordinates": [first["coordinates"], second["coordinates"]]}


BAD_REQUESTS = [
    pytest.param(_bowtie(), "connection", {}, "geometry", id="self-intersecting-polygon"),
    pytest.param({"type": "Polygon", "coordinates": []}, "connection", {}, "geometry", id="empty-polygon"),
    pytest.param(square(HEFEI, 750.0), "building", BUILDING, "geometry", id="2.25-km2-site"),
    pytest.param(_clockwise(square(HEFEI, 750.0)), "building", BUILDING, "geometry", id="2.25-km2-clockwise"),
    pytest.param(_two_sites_of_1_44_km2_drawn_in_opposite_directions(), "building", BUILDING, "geometry",
                 id="2.88-km2-multipolygon"),
    pytest.param(geodesic_line(HEFEI, EAST, 12_500.0), "excavation", DIGGING, "geometry", id="25-km-trench"),
    pytest.param(point(HEFEI), "fishing", {}, "activity", id="unknown-activity"),
    pytest.param(point(HEFEI), "building", {}, "parameters.height_m", id="building-without-height"),
    pytest.param(point(HEFEI), "blasting", {"charge_kg": -1}, "parameters.charge_kg", id="negative-charge"),
    pytest.param(point((197.2, 31.8)), "connection", {}, "geometry", id="longitude-out-of-range"),
    pytest.param(point((500_000.0, 3_520_000.0)), "connection", {}, "geometry", id="projected-without-crs"),
]


@pytest.mark.parametrize(("geometry", "activity", "parameters", "field"), BAD_REQUESTS)
def test_bad_request_is_refused_naming_the_field_and_nothing_is_stored(
        desk: Desk, owner_engine: Engine, geometry: dict[str, Any], activity: str, parameters: dict[str, Any],
        field: str) -> None:
    response = desk.screen_response(geometry, activity, parameters)

    assert field in error_fields(response)
    assert count_rows(owner_engine, "screenings") == 0


def test_site_just_under_the_area_cap_is_screened(desk: Desk) -> None:
    response = desk.screen_response(square(HEFEI, 700.0), "building", BUILDING)  # 1.96 km²

    assert response.status_code == 201, response.text


def test_area_cap_is_configuration(desk: Desk, settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                   owner_engine: Engine) -> None:
    monkeypatch.setattr(screening_settings(settings), "max_area_m2", 1_000_000.0)  # a utility that caps sites at 1 km²

    response = desk.screen_response(square(HEFEI, 525.0), "building", BUILDING)  # 1.1 km²

    assert "1.10 km²" in assert_problem(response, 422)["detail"]
    assert count_rows(owner_engine, "screenings") == 0


def test_unknown_crs_is_refused_and_nothing_is_stored(desk: Desk, owner_engine: Engine) -> None:
    response = desk.client.post(SCREENINGS, params={"crs": "EPSG:999999"}, headers=desk.headers,
                                json={"geometry": point(HEFEI), "activity": "connection"})

    assert error_fields(response) == ["crs"]
    assert count_rows(owner_engine, "screenings") == 0


def test_geometry_in_a_projected_crs_is_screened_where_it_lies(desk: Desk) -> None:
    overhead(desk, HEFEI, NORTH)
    lon, lat = beside(HEFEI, NORTH, 6.0)
    x, y = Transformer.from_crs(4326, 32650, always_xy=True).transform(lon, lat)

    response = desk.client.post(SCREENINGS, params={"crs": "EPSG:32650"}, headers=desk.headers,
                                json={"geometry": {"type": "Point", "coordinates": [x, y]}, "activity": "connection"})

    assert response.status_code == 201, response.text
    assert finding(response.json(), "zone.overhead.general")["measured_m"] == pytest.approx(4.5, abs=0.05)


# --- batches -----------------------------------------------------------------------------------------------------


def batch_item(geometry: dict[str, Any], activity: str = "connection", parameters: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"geometry": geometry, "activity": activity, "parameters": parameters or {}, **extra}


def post_batch(desk: Desk, items: list[dict[str, Any]], **extra: Any) -> Any:
    return desk.client.post(f"{SCREENINGS}/batch", json={"items": items, **extra}, headers=desk.headers)


def test_batch_with_one_bad_item_is_refused_naming_it_and_nothing_is_stored(desk: Desk, owner_engine: Engine) -> None:
    items = [batch_item(point(moved(HEFEI, EAST, 10.0 * n))) for n in range(5)]
    items[1]["activity"] = "fishing"
    items[3]["geometry"] = _bowtie()

    response = post_batch(desk, items)

    assert error_fields(response) == ["items[1].activity", "items[3].geometry"]
    assert "item 1: Unknown activity 'fishing'" in response.json()["detail"]
    assert count_rows(owner_engine, "screenings") == 0


def test_batch_of_one_bad_item_names_it_as_an_item(desk: Desk, owner_engine: Engine) -> None:
    response = post_batch(desk, [batch_item(point(HEFEI), "building")])

    assert error_fields(response) == ["items[0].parameters.height_m"]
    assert count_rows(owner_engine, "screenings") == 0


def test_batch_of_1001_geometries_is_refused(desk: Desk, owner_engine: Engine) -> None:
    response = post_batch(desk, [batch_item(point(HEFEI))] * 1001)

    assert error_fields(response) == ["items"]
    assert count_rows(owner_engine, "screenings") == 0


def test_batch_of_50_answers_each_item_in_order_as_a_single_screening_would(desk: Desk,
                                                                             owner_engine: Engine) -> None:
    overhead(desk, HEFEI, NORTH)
    desk.create("poles", point(HEFEI), kind="pole", nominal_kv=10.0)
    desk.create("transformers", point(moved(HEFEI, EAST, 120.0)))
    desk.line(geodesic_line(moved(HEFEI, EAST, 60.0), NORTH), construction="cable", nominal_kv=10.0)
    plans = [("connection", {}), ("building", BUILDING), ("excavation", DIGGING), ("tree_planting", {}),
             ("blasting", BLAST)]
    items = []
    for n in range(50):
        activity, parameters = plans[n % len(plans)]
        spot = beside(moved(HEFEI, NORTH, (n % 7) * 3.0), NORTH, 0.5 + 1.3 * n)
        items.append(batch_item(point(spot), activity, parameters, reference=f"item-{n}"))

    response = post_batch(desk, items)

    assert response.status_code == 201, response.text
    answers = response.json()
    assert [a["reference"] for a in answers] == [f"item-{n}" for n in range(50)]
    assert {a["verdict"] for a in answers} == {"clear", "conditional", "conflict"}
    compared = ("verdict", "activity", "parameters", "rule_set", "findings_total", "findings",
                "nearest_transformers")
    for item, answer in zip(items, answers, strict=True):
        single = desk.screen(item["geometry"], item["activity"], item["parameters"], reference=item["reference"])
        assert {k: answer[k] for k in compared} == {k: single[k] for k in compared}, item["reference"]
    assert count_rows(owner_engine, "screenings") == 100


# --- accuracy ----------------------------------------------------------------------------------------------------

DISTANCES_M = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)


@pytest.mark.parametrize("bearing", BEARINGS)
@pytest.mark.parametrize("origin", [pytest.param(EQUATOR, id="0"), pytest.param(NORTH_45, id="45N"),
                                    pytest.param(ARCTIC, id="69.6N"), pytest.param(FAR_NORTH, id="80N"),
                                    pytest.param((179.9999, -16.8), id="antimeridian-Fiji")])
def test_measured_distance_matches_the_geodesic_distance_within_5_cm(desk: Desk, origin: LonLat,
                                                                     bearing: float) -> None:
    desk.line(geodesic_line(origin, bearing), construction="cable", nominal_kv=10.0)
    spots = [(d, side) for d in DISTANCES_M for side in (1, -1)]

    response = post_batch(desk, [batch_item(point(beside(origin, bearing, d, side=side)), "blasting", BLAST)
                                 for d, side in spots])

    assert response.status_code == 201, response.text
    for (distance, _side), answer in zip(spots, response.json(), strict=True):
        found = finding(answer, "radius.blasting")
        assert found["measured_m"] == pytest.approx(distance, abs=0.05)
        assert geodesic_length(found["nearest_points"]) == pytest.approx(distance, abs=0.05)


# --- retried submissions ---------------------------------------------------------------------------------------


def test_a_retried_screening_with_the_same_idempotency_key_returns_the_first_and_stores_one(
        desk: Desk, owner_engine: Engine) -> None:
    overhead(desk, HEFEI, NORTH)
    body = {"geometry": point(from_conductor(HEFEI, NORTH, 2.0)), "activity": "connection", "parameters": {}}
    headers = {**desk.headers, "Idempotency-Key": "visit-42-site-1"}

    first = desk.client.post(SCREENINGS, json=body, headers=headers)
    retried = desk.client.post(SCREENINGS, json=body, headers=headers)
    other_key = desk.client.post(SCREENINGS, json=body, headers={**desk.headers, "Idempotency-Key": "visit-43"})

    assert first.status_code == 201 and retried.status_code == 200
    assert retried.json()["id"] == first.json()["id"] and retried.json()["findings"] == first.json()["findings"]
    assert other_key.status_code == 201 and other_key.json()["id"] != first.json()["id"]
    assert count_rows(owner_engine, "screenings") == 2


def test_a_retried_batch_returns_the_first_answers_in_order(desk: Desk, owner_engine: Engine) -> None:
    overhead(desk, HEFEI, NORTH)
    items = [batch_item(point(from_conductor(HEFEI, NORTH, d)), "connection", {}, reference=f"r{d}")
             for d in (1.0, 3.0, 9.0)]
    headers = {**desk.headers, "Idempotency-Key": "batch-7"}

    first = desk.client.post(f"{SCREENINGS}/batch", json={"items": items}, headers=headers)
    retried = desk.client.post(f"{SCREENINGS}/batch", json={"items": items}, headers=headers)

    assert first.status_code == 201 and retried.status_code == 200
    assert [a["id"] for a in retried.json()] == [a["id"] for a in first.json()]
    assert [a["reference"] for a in retried.json()] == ["r1.0", "r3.0", "r9.0"]
    assert count_rows(owner_engine, "screenings") == 3


# The IETF Idempotency-Key draft: a key sent again with a different request is the client's mistake,
# answered 422, never with the result of the other request.
REUSED_KEY = [{"field": "Idempotency-Key", "message": "already used for a different request"}]


def test_a_key_sent_again_with_a_different_screening_is_refused_and_stores_nothing(
        desk: Desk, owner_engine: Engine) -> None:
    overhead(desk, HEFEI, NORTH)
    body = {"geometry": point(from_conductor(HEFEI, NORTH, 2.0)), "activity": "connection", "parameters": {}}
    moved_site = {**body, "geometry": point(from_conductor(HEFEI, NORTH, 40.0))}
    headers = {**desk.headers, "Idempotency-Key": "visit-42-site-1"}

    first = desk.client.post(SCREENINGS, json=body, headers=headers)
    other_site = desk.client.post(SCREENINGS, json=moved_site, headers=headers)
    other_activity = desk.client.post(SCREENINGS, json={**body, "activity": "building", "parameters": BUILDING},
                                      headers=headers)
    other_crs = desk.client.post(SCREENINGS, params={"crs": "EPSG:4490"}, json=body, headers=headers)
    as_a_batch = desk.client.post(f"{SCREENINGS}/batch", json={"items": [body]}, headers=headers)

    assert first.status_code == 201
    for refused in (other_site, other_activity, other_crs, as_a_batch):
        assert assert_problem(refused, 422)["errors"] == REUSED_KEY
    assert count_rows(owner_engine, "screenings") == 1
    again = desk.client.post(SCREENINGS, json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_a_key_sent_again_with_a_different_batch_is_refused_and_stores_nothing(
        desk: Desk, owner_engine: Engine) -> None:
    overhead(desk, HEFEI, NORTH)
    items = [batch_item(point(from_conductor(HEFEI, NORTH, d)), "connection", {}, reference=f"r{d}")
             for d in (1.0, 3.0, 9.0)]
    headers = {**desk.headers, "Idempotency-Key": "batch-7"}

    first = desk.client.post(f"{SCREENINGS}/batch", json={"items": items}, headers=headers)
    fewer = desk.client.post(f"{SCREENINGS}/batch", json={"items": items[:2]}, headers=headers)
    reordered = desk.client.post(f"{SCREENINGS}/batch", json={"items": items[::-1]}, headers=headers)
    renamed = desk.client.post(f"{SCREENINGS}/batch", json={"items": [{**items[0], "reference": "x"}, *items[1:]]},
                               headers=headers)

    assert first.status_code == 201
    for refused in (fewer, reordered, renamed):
        assert assert_problem(refused, 422)["errors"] == REUSED_KEY
    assert count_rows(owner_engine, "screenings") == 3


def test_the_same_body_written_differently_is_the_same_request(desk: Desk, owner_engine: Engine) -> None:
    """The fingerprint is taken of the request as understood (keys in any order, defaults filled in),
    not of its bytes: a client that re-serialises its retry is not refused."""
    overhead(desk, HEFEI, NORTH)
    at = point(from_conductor(HEFEI, NORTH, 2.0))
    headers = {**desk.headers, "Idempotency-Key": "visit-44"}

    first = desk.client.post(SCREENINGS, json={"geometry": at, "activity": "connection", "parameters": {}},
                             headers=headers)
    retried = desk.client.post(SCREENINGS, json={"activity": "connection", "geometry": at}, headers=headers)

    assert (first.status_code, retried.status_code) == (201, 200), retried.text
    assert retried.json()["id"] == first.json()["id"]
    assert count_rows(owner_engine, "screenings") == 1


def test_keys_are_per_user_so_two_users_may_send_the_same_key(desk: Desk, auth: Any, owner_engine: Engine) -> None:
    overhead(desk, HEFEI, NORTH)
    body = {"geometry": point(from_conductor(HEFEI, NORTH, 2.0)), "activity": "connection", "parameters": {}}
    other_body = {**body, "geometry": point(from_conductor(HEFEI, NORTH, 40.0))}

    mine = desk.client.post(SCREENINGS, json=body, headers={**desk.headers, "Idempotency-Key": "k-1"})
    theirs = desk.client.post(SCREENINGS, json=other_body, headers={**auth(Role.inspector), "Idempotency-Key": "k-1"})

    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert mine.json()["id"] != theirs.json()["id"]
    assert count_rows(owner_engine, "screenings") == 2


def test_two_different_screenings_sent_at_once_with_one_key_store_one(desk: Desk, owner_engine: Engine) -> None:
    overhead(desk, HEFEI, NORTH)
    bodies = [{"geometry": point(from_conductor(HEFEI, NORTH, d)), "activity": "connection", "parameters": {}}
              for d in (2.0, 40.0)]
    headers = {**desk.headers, "Idempotency-Key": "double-tap"}
    start = threading.Barrier(2)

    def send(body: dict[str, Any]) -> Any:
        start.wait(timeout=10)
        return desk.client.post(SCREENINGS, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(send, bodies))

    assert sorted(r.status_code for r in responses) == [201, 422], [r.text for r in responses]
    assert count_rows(owner_engine, "screenings") == 1


def test_a_key_stored_before_fingerprints_were_kept_returns_its_result(desk: Desk, owner_engine: Engine) -> None:
    """Screenings stored before the upgrade have no fingerprint: what they were asked with is not
    known, so their key answers with the stored result as it did before (a client retrying across
    the upgrade gets its answer rather than a refusal that would make it send a new key)."""
    overhead(desk, HEFEI, NORTH)
    body = {"geometry": point(from_conductor(HEFEI, NORTH, 2.0)), "activity": "connection", "parameters": {}}
    headers = {**desk.headers, "Idempotency-Key": "before-upgrade"}
    first = desk.client.post(SCREENINGS, json=body, headers=headers)
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE screenings SET idempotency_fingerprint = NULL"))

    retried = desk.client.post(SCREENINGS, json={**body, "activity": "building", "parameters": BUILDING},
                               headers=headers)

    assert (first.status_code, retried.status_code) == (201, 200)
    assert retried.json()["id"] == first.json()["id"]
