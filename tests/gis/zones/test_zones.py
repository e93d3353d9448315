"""Derived protection zones (DOMAIN.md §3): the band a line protects, as the map shows it at
/api/v1/zones and as screenings judge it, kept in step with every line and built-up-area edit.

Widths are hand-computed from the CN rule set: a 10 kV overhead line with a 3.0 m spread protects
3.0 / 2 + 5 = 6.5 m either side of its centre line; a cable 0.75 m; in a built-up area the band is
spread / 2 + wind swing + 1.5 m safety distance.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.permissions import Role
from core.settings import Settings
from gis.layers import service as layer_service
from gis.network.layers import NETWORK_LAYERS
from gis.zones.layers import BUILT_UP_AREAS, DERIVED_ZONES
from gis.zones.read import DERIVED_ZONE_PROPERTIES, MANUAL_ZONE_PROPERTIES
from tests.gis.screening.conftest import (
    BEARINGS,
    EAST,
    HEFEI,
    LATITUDES,
    NORTH,
    ZONES,
    Auth,
    Desk,
    LonLat,
    assert_includes,
    assert_problem,
    beside,
    contains,
    count_rows,
    geodesic_line,
    moved,
    point,
    square,
)

LINES = next(layer for layer in NETWORK_LAYERS if layer.name == "lines")


@pytest.fixture
def desk(client: TestClient, auth: Auth) -> Desk:
    return Desk(client, auth(Role.dispatcher))


def only_zone(desk: Desk, line: dict[str, Any]) -> dict[str, Any]:
    zones = desk.line_zones(line)
    assert len(zones) == 1, zones
    return zones[0]


def assert_half_width(zone: dict[str, Any], origin: LonLat, bearing: float, half_width_m: float) -> None:
    """The zone polygon reaches `half_width_m` from the centre line on both sides, within 5 cm."""
    for side in (1, -1):
        assert contains(zone, beside(origin, bearing, half_width_m - 0.1, side=side))
        assert not contains(zone, beside(origin, bearing, half_width_m + 0.1, side=side))


def zone_line_count(session: Session, line_id: int) -> int:
    return int(session.scalar(text("SELECT count(*) FROM line_zones WHERE line_id = :id"), {"id": line_id}))


# --- overhead lines and cables -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bearing", BEARINGS)
@pytest.mark.parametrize("origin", LATITUDES)
def test_overhead_zone_is_half_the_spread_plus_five_metres_each_side(desk: Desk, origin: LonLat,
                                                                      bearing: float) -> None:
    line = desk.line(geodesic_line(origin, bearing), nominal_kv=10.0, conductor_spread_m=3.0)

    zone = only_zone(desk, line)

    assert_includes(zone["properties"], {
        "line_id": line["id"], "setting": "general", "rule_code": "zone.overhead.general", "conductor_offset_m": 1.5,
        "width_m": 5.0, "wind_swing_m": 0.0, "half_width_m": 6.5, "rule_set": "CN-EPP 2011.2",
        "legal_source": "电力设施保护条例 §10(1)"})
    assert_half_width(zone, origin, bearing, 6.5)


def test_zone_of_a_line_across_the_antimeridian_is_split_there_not_wrapped_round_the_globe(desk: Desk) -> None:
    origin = (179.9999, 65.0)  # Chukotka: the line runs on east across 180°
    east_end = moved(origin, EAST, 140.0)
    line = desk.line(geodesic_line(origin, EAST), nominal_kv=10.0, conductor_spread_m=3.0)
    assert line["geometry"]["coordinates"][2][0] < -179.99

    zone = only_zone(desk, line)

    parts = shape(zone["geometry"]).geoms
    assert len(parts) == 2 and all(part.bounds[2] - part.bounds[0] < 0.01 for part in parts)
    assert_half_width(zone, origin, EAST, 6.5)
    assert_half_width(zone, east_end, EAST, 6.5)


def test_line_without_a_spread_takes_the_default_spread_for_its_voltage(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=10.0)  # default 1.5 m for 6-10 kV

    zone = only_zone(desk, line)

    assert zone["properties"]["conductor_offset_m"] == 0.75 and zone["properties"]["half_width_m"] == 5.75
    assert_half_width(zone, HEFEI, NORTH, 5.75)


def test_low_voltage_overhead_line_has_no_general_zone(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=0.4, conductor_spread_m=0.6)

    assert desk.line_zones(line) == []


@pytest.mark.parametrize("bearing", BEARINGS)
@pytest.mark.parametrize("origin", LATITUDES)
def test_cable_zone_is_three_quarters_of_a_metre_each_side(desk: Desk, origin: LonLat, bearing: float) -> None:
    line = desk.line(geodesic_line(origin, bearing), construction="cable", nominal_kv=10.0)

    zone = only_zone(desk, line)

    assert zone["properties"]["setting"] == "cable" and zone["properties"]["rule_code"] == "zone.cable"
    assert zone["properties"]["half_width_m"] == 0.75 and zone["properties"]["conductor_offset_m"] == 0.0
    for side in (1, -1):
        assert contains(zone, beside(origin, bearing, 0.70, side=side))
        assert not contains(zone, beside(origin, bearing, 0.80, side=side))


# --- built-up areas ------------------------------------------------------------------------------------------------


def crossing_line_and_area(desk: Desk, **line_props: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A 10 kV line 600 m long running east through a 200 m square built-up area centred on HEFEI."""
    line = desk.line(geodesic_line(HEFEI, EAST, half_length_m=300.0), nominal_kv=10.0, conductor_spread_m=3.0,
                     **line_props)
    area = desk.create("zones/built_up_areas", square(HEFEI, 100.0))
    return line, area


def test_line_through_built_up_area_is_split_into_general_and_built_up_parts(desk: Desk) -> None:
    line, _area = crossing_line_and_area(desk, wind_swing_m=2.0)
    outside = moved(HEFEI, EAST, 200.0)

    general, built_up = desk.line_zones(line)

    assert general["properties"]["setting"] == "general" and general["properties"]["half_width_m"] == 6.5
    assert_includes(built_up["properties"], {
        "setting": "built_up", "rule_code": "zone.overhead.built_up", "conductor_offset_m": 1.5, "wind_swing_m": 2.0,
        "width_m": 1.5, "half_width_m": 5.0, "legal_source": "电力设施保护条例实施细则 §5"})
    assert_half_width(built_up, HEFEI, EAST, 5.0)
    assert_half_width(general, outside, EAST, 6.5)
    assert not contains(general, HEFEI) and not contains(built_up, outside)
    assert shape(built_up["geometry"]).union(shape(general["geometry"])).contains(
        shape(geodesic_line(HEFEI, EAST, half_length_m=300.0)))


def test_line_wholly_inside_a_built_up_area_has_only_a_built_up_zone(desk: Desk) -> None:
    desk.create("zones/built_up_areas", square(HEFEI, 500.0))
    line = desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=35.0, conductor_spread_m=3.0, wind_swing_m=2.0)

    zone = only_zone(desk, line)

    assert zone["properties"]["setting"] == "built_up" and zone["properties"]["half_width_m"] == 1.5 + 2.0 + 3.0
    assert_half_width(zone, HEFEI, NORTH, 6.5)


def test_built_up_part_takes_the_default_wind_swing_when_the_line_has_none(desk: Desk) -> None:
    line, _area = crossing_line_and_area(desk)  # 10 kV default swing 1.0 m

    _general, built_up = desk.line_zones(line)

    assert built_up["properties"]["wind_swing_m"] == 1.0 and built_up["properties"]["half_width_m"] == 4.0
    assert_half_width(built_up, HEFEI, EAST, 4.0)


def test_creating_changing_and_deleting_a_built_up_area_re_splits_the_zones(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, EAST, half_length_m=300.0), nominal_kv=10.0, conductor_spread_m=3.0)
    assert [z["properties"]["setting"] for z in desk.line_zones(line)] == ["general"]

    area = desk.create("zones/built_up_areas", square(HEFEI, 100.0))
    assert [z["properties"]["setting"] for z in desk.line_zones(line)] == ["general", "built_up"]
    assert contains(desk.line_zones(line)[1], beside(HEFEI, EAST, 3.0))

    elsewhere = moved(HEFEI, NORTH, 1000.0)
    moved_away = desk.patch("zones/built_up_areas", area, geometry=square(elsewhere, 100.0))
    assert moved_away.status_code == 200, moved_away.text
    assert [z["properties"]["setting"] for z in desk.line_zones(line)] == ["general"]

    back = desk.patch("zones/built_up_areas", moved_away.json(), geometry=square(moved(HEFEI, EAST, 250.0), 100.0))
    assert back.status_code == 200, back.text
    general, built_up = desk.line_zones(line)
    assert contains(built_up, beside(moved(HEFEI, EAST, 250.0), EAST, 3.0))
    assert contains(general, beside(HEFEI, EAST, 6.0))

    assert desk.delete("zones/built_up_areas", back.json()).status_code == 204
    assert [z["properties"]["setting"] for z in desk.line_zones(line)] == ["general"]
    assert_half_width(desk.line_zones(line)[0], HEFEI, EAST, 6.5)


def test_built_up_area_and_its_zone_split_commit_or_roll_back_together(
        desk: Desk, session_factory: sessionmaker[Session], system_actor: Actor, settings: Settings) -> None:
    line = desk.line(geodesic_line(HEFEI, EAST, half_length_m=300.0), nominal_kv=10.0, conductor_spread_m=3.0)
    session = session_factory()
    try:
        layer_service.create_feature(db=session, actor=system_actor, layer=BUILT_UP_AREAS,
                                     geometry=shape(square(HEFEI, 100.0)),
                                     properties=BUILT_UP_AREAS.props(external_id="town-1"), settings=settings.api)
        assert zone_line_count(session, line["id"]) == 2  # split inside the writer's transaction...
    finally:
        session.rollback()
        session.close()

    assert [z["properties"]["setting"] for z in desk.line_zones(line)] == ["general"]  # ...and undone with it


# --- zones follow line edits -------------------------------------------------------------------------------------


def test_creating_a_line_creates_its_zone_in_the_same_transaction(
        session_factory: sessionmaker[Session], system_actor: Actor, owner_engine: Engine, settings: Settings) -> None:
    session = session_factory()
    try:
        record = layer_service.create_feature(
            db=session, actor=system_actor, layer=LINES, geometry=shape(geodesic_line(HEFEI, NORTH)),
            properties=LINES.props(external_id="L-1", construction="overhead", nominal_kv=10.0),
            settings=settings.api)
        assert zone_line_count(session, record.id) == 1
    finally:
        session.rollback()
        session.close()

    assert count_rows(owner_engine, "line_zones") == 0 and count_rows(owner_engine, "lines") == 0


def test_moving_a_line_moves_its_zone(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, NORTH), conductor_spread_m=3.0)
    old_spot, new_origin = beside(HEFEI, NORTH, 4.0), moved(HEFEI, EAST, 500.0)
    new_spot = beside(new_origin, NORTH, 4.0)
    assert desk.in_any_zone(old_spot) and not desk.in_any_zone(new_spot)
    assert desk.screen(point(old_spot), "connection")["verdict"] == "conditional"

    response = desk.patch("lines", line, geometry=geodesic_line(new_origin, NORTH))

    assert response.status_code == 200, response.text
    assert not desk.in_any_zone(old_spot) and desk.in_any_zone(new_spot)
    assert desk.screen(point(old_spot), "connection")["verdict"] == "clear"
    assert desk.screen(point(new_spot), "connection")["verdict"] == "conditional"


def test_re_rating_a_line_from_10_to_110_kv_widens_its_zone(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=10.0, conductor_spread_m=3.0)
    spot = beside(HEFEI, NORTH, 9.0)
    assert not desk.in_any_zone(spot) and desk.screen(point(spot), "connection")["verdict"] == "clear"

    response = desk.patch("lines", line, nominal_kv=110.0)

    assert response.status_code == 200, response.text
    zone = only_zone(desk, line)
    assert zone["properties"]["nominal_kv"] == 110.0 and zone["properties"]["half_width_m"] == 11.5
    assert_half_width(zone, HEFEI, NORTH, 11.5)
    result = desk.screen(point(spot), "connection")
    assert result["verdict"] == "conditional"
    assert result["findings"][0]["required_m"] == 10.0 and result["findings"][0]["asset"]["nominal_kv"] == 110.0


def test_changing_the_spread_changes_the_zone(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, EAST), nominal_kv=10.0, conductor_spread_m=3.0)
    spot = beside(HEFEI, EAST, 7.0)
    assert desk.screen(point(spot), "connection")["verdict"] == "clear"

    response = desk.patch("lines", line, conductor_spread_m=5.0)

    assert response.status_code == 200, response.text
    zone = only_zone(desk, line)
    assert zone["properties"]["conductor_offset_m"] == 2.5 and zone["properties"]["half_width_m"] == 7.5
    assert_half_width(zone, HEFEI, EAST, 7.5)
    assert desk.screen(point(spot), "connection")["findings"][0]["measured_m"] == pytest.approx(4.5, abs=0.05)


def test_deleting_a_line_removes_its_zone(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, NORTH), conductor_spread_m=3.0)
    spot = beside(HEFEI, NORTH, 2.0)

    assert desk.delete("lines", line).status_code == 204

    assert desk.zones() == [] and not desk.in_any_zone(spot)
    assert desk.screen(point(spot), "connection")["verdict"] == "clear"


def test_stale_line_edit_leaves_the_zone_as_it_was(desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=10.0, conductor_spread_m=3.0)
    renamed = desk.patch("lines", line, name="Feeder 12 (renamed)")
    assert renamed.status_code == 200
    before = desk.zones()

    stale = desk.patch("lines", line, version=1, geometry=geodesic_line(moved(HEFEI, EAST, 500.0), NORTH),
                       nominal_kv=110.0)

    assert_problem(stale, 412)
    assert [z["properties"] for z in desk.zones()] == [z["properties"] for z in before]
    assert [z["geometry"] for z in desk.zones()] == [z["geometry"] for z in before]
    assert desk.screen(point(beside(HEFEI, NORTH, 6.0)), "connection")["verdict"] == "conditional"


# --- manual zones -----------------------------------------------------------------------------------------------


def test_manual_zones_are_listed_only_while_in_force(desk: Desk) -> None:
    current = desk.create("zones/manual", square(HEFEI, 50.0), valid_from="2020-01-01")
    desk.create("zones/manual", square(moved(HEFEI, EAST, 500.0), 50.0), valid_from="2020-01-01",
                valid_to="2021-12-31")

    listed = desk.zones(source="manual")
    in_2021 = desk.zones(source="manual", on_date="2021-06-01")

    assert [z["properties"]["manual_zone_id"] for z in listed] == [current["id"]]
    assert listed[0]["properties"]["authority"] == "County power bureau"
    assert len(in_2021) == 2


def test_manual_zone_validity_can_be_ended(desk: Desk) -> None:
    zone = desk.create("zones/manual", square(HEFEI, 50.0), valid_from="2020-01-01")
    assert zone["properties"]["valid_from"] == "2020-01-01" and zone["properties"]["valid_to"] is None

    ended = desk.patch("zones/manual", zone, valid_to="2021-12-31")

    assert ended.status_code == 200, ended.text
    assert ended.json()["properties"]["valid_to"] == "2021-12-31" and ended.json()["properties"]["version"] == 2
    assert desk.zones(source="manual") == []
    assert desk.screen(point(HEFEI), "connection")["verdict"] == "clear"


# --- the zone map, page by page ---------------------------------------------------------------------------------


def test_paging_through_zones_gives_every_derived_and_manual_zone_once(desk: Desk) -> None:
    for offset in (0.0, 300.0, 600.0):
        desk.line(geodesic_line(moved(HEFEI, EAST, offset), NORTH), nominal_kv=10.0, conductor_spread_m=3.0)
    manual = [desk.create("zones/manual", square(moved(HEFEI, NORTH, 900.0 + 200 * n), 50.0),
                          valid_from="2020-01-01")["id"] for n in range(2)]

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = desk.client.get(ZONES, params=params, headers=desk.headers).json()
        seen += [feature["id"] for feature in page["features"]]
        if "next_cursor" not in page:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}

    assert len(seen) == len(set(seen)) == 5
    assert seen[-2:] == [f"manual-{zone_id}" for zone_id in manual]  # derived zones first, then manual ones


def test_the_catalogue_publishes_the_properties_the_zone_map_shows(desk: Desk) -> None:
    desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=10.0)
    desk.create("zones/manual", square(moved(HEFEI, EAST, 900.0), 50.0), valid_from="2020-01-01")

    shown = {zone["properties"]["source"]: tuple(zone["properties"]) for zone in desk.zones()}

    assert shown == {"derived": DERIVED_ZONE_PROPERTIES, "manual": MANUAL_ZONE_PROPERTIES}
    assert set(DERIVED_ZONES.properties) == {*DERIVED_ZONE_PROPERTIES, *MANUAL_ZONE_PROPERTIES}


def test_a_cursor_from_another_list_is_refused(desk: Desk) -> None:
    desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=10.0)
    desk.line(geodesic_line(moved(HEFEI, EAST, 300.0), NORTH), nominal_kv=10.0)
    layer_cursor = desk.client.get("/api/v1/network/lines", params={"limit": 1},
                                   headers=desk.headers).json()["next_cursor"]

    response = desk.client.get(ZONES, params={"cursor": layer_cursor}, headers=desk.headers)

    assert assert_problem(response, 422)["errors"] == [{"field": "cursor", "message": "invalid"}]
