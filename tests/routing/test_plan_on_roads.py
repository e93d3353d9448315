"""With a road network loaded (the 6 x 6 block town of tests/routing/road_grid.py), a plan's travel
comes from the roads and says so; a place too far from every road is refused at once, naming the
job or the crew member it belongs to and how far off it lies."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from routing.problem import Point
from tests.routing.conftest import Plans, crew_member, plan_body
from tests.routing.road_grid import insert_grid, node_point


@pytest.fixture
def town(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as db, db.begin():
        insert_grid(db)


def lonlat(point: Point) -> dict[str, float]:
    return {"lon": point.lon, "lat": point.lat}


FAR_AWAY = {"lon": 113.05, "lat": 28.0}  # 0.044° east of the last street at 28° N: about 4.33 km


def job(ref: str, location: dict[str, float]) -> dict[str, Any]:
    return {"ref": ref, "location": location, "service_minutes": 10}


@pytest.mark.usefixtures("town")
def test_a_job_off_the_road_network_is_named_with_its_distance(plans: Plans) -> None:
    body = plan_body([crew_member(plans.crew["inspector"], start=lonlat(node_point(0, 0)))],
                     jobs=[job("on-street", lonlat(node_point(2, 2))), job("in-the-fields", FAR_AWAY)])
    found = plans.refused(body)
    (error,) = found["errors"]
    assert error["field"] == "jobs[1].location"
    assert "m from the nearest road" in error["message"]
    distance_m = float(error["message"].split(" m ")[0])
    assert 4250 < distance_m < 4400


@pytest.mark.usefixtures("town")
def test_a_crew_member_starting_off_the_network_is_named(plans: Plans) -> None:
    body = plan_body([crew_member(plans.crew["inspector"], start=FAR_AWAY, end=lonlat(node_point(0, 0)))],
                     jobs=[job("on-street", lonlat(node_point(2, 2)))])
    assert [e["field"] for e in plans.refused(body)["errors"]] == ["crews[0].start"]


@pytest.mark.usefixtures("town", "celery_worker")
def test_a_plan_in_town_travels_along_the_roads(plans: Plans) -> None:
    body = plan_body([crew_member(plans.crew["inspector"], start=lonlat(node_point(0, 0)))],
                     jobs=[job("corner", lonlat(node_point(4, 4)))])
    asked = plans.ask(body)
    assert asked.status_code == 202, asked.text
    assert asked.json()["travel_source"] == "roads"
    plan = plans.wait(asked.json()["id"])
    assert plan["state"] == "solved", plan["error"]
    assert (plan["result"]["travel_source"], plan["result"]["estimate"]) == ("roads", False)
    (route,) = plan["result"]["routes"]
    # Along the streets, not straight across the blocks: the line turns at junctions.
    assert len(route["geometry"]["coordinates"]) > 3
    (stop,) = route["stops"]
    assert stop["travel_m"] >= 700  # 4 blocks east + 4 north, ~95 m + ~100 m each, on the streets
