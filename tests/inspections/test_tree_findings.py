"""Line-patrol findings of trees too close to a line (issue 13 §4): a vegetation or clearance-violation
finding may carry the tree's height and its horizontal distance from the line's outermost conductor;
the default rule set's tree clearance judges it as screening judges a request to plant a tree there,
the judgement is kept with the finding (`clearance_check`), and a broken clearance whose breach the
rule set calls a conflict always gets a follow-up visit, whatever the reporter chose.

Every expected number is worked out by hand from gis/data/rule_sets/cn-epp-2011.2.json
(`clearance.tree`: 实施细则 §16 from 35 kV, the utility's own GB 50061 values below; outcome for
`tree_planting`: conflict), horizontal at maximum wind swing, vertical at maximum sag:

- 10 kV line, recorded wind swing 1.5 m and lowest conductor 8.0 m: horizontal 2.0 + 1.5 = 3.5 m,
  vertical 3.0 m, so a tree under the conductors breaks it from 8.0 - 3.0 = 5.0 m tall.
- 110 kV line, recorded wind swing 2.5 m and lowest conductor 12.0 m: horizontal 3.5 + 2.5 = 6.0 m,
  vertical 4.0 m, broken under the conductors from 12.0 - 4.0 = 8.0 m.
- 10 kV line without records: lowest conductor 5.5 m (conductor_height_defaults.json, flagged) and
  wind swing 1.0 m (wind_swing_defaults.json).
Beside the line keeping either distance is enough (`beside: either`), so the tall trees beside the
line below reach within the vertical clearance and the horizontal distance decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.factories import created
from tests.inspections.conftest import NOW, Field, problem
from tests.inspections.sync.conftest import (  # noqa: F401  (fixtures of pushed items)
    Device,
    DeviceLogin,
    device_token,
    forget_cached_devices,
    item,
)

CN_EPP = "CN-EPP 2011.2"
TREE_RULE = "clearance.tree"
TEN_KV = {"nominal_kv": 10.0, "wind_swing_m": 1.5, "min_ground_clearance_m": 8.0}
HUNDRED_TEN_KV = {"nominal_kv": 110.0, "wind_swing_m": 2.5, "min_ground_clearance_m": 12.0}
LINES = {"10kV": TEN_KV, "110kV": HUNDRED_TEN_KV}


def line(field: Field, **props: Any) -> dict[str, Any]:
    """A line mapped by the dispatcher (overhead 10 kV unless `props` say otherwise)."""
    return created(field.client, field.headers("dispatcher"), "lines", **props)


def tree_report(asset: dict[str, Any], *, category: str = "vegetation", **tree: float) -> dict[str, Any]:
    """A finding body about a tree beside the line `asset`."""
    return {"category": category, "asset_type": "line", "asset_id": asset["id"], "tree": tree}


def reported(field: Field, task: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    response = field.try_report(task, **body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    """(category, clearance_check, follow_up_task_id) of every finding, as the database holds them."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT category, clearance_check, follow_up_task_id FROM findings ORDER BY id"))]


def follow_ups(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM field_tasks WHERE origin->>'kind' = 'finding'")).scalar_one())


@pytest.mark.parametrize(("voltage", "height_m", "broken", "gap_m", "required_m", "shortfall_m"), [
    pytest.param("10kV", 5.1, True, 2.9, 3.0, 0.1, id="10kV-0.1m-inside"),
    pytest.param("10kV", 4.9, False, 3.1, 3.0, -0.1, id="10kV-0.1m-outside"),
    pytest.param("110kV", 8.1, True, 3.9, 4.0, 0.1, id="110kV-0.1m-inside"),
    pytest.param("110kV", 7.9, False, 4.1, 4.0, -0.1, id="110kV-0.1m-outside"),
])
def test_a_tree_under_the_conductors_is_judged_by_the_vertical_clearance(
        field: Field, voltage: str, height_m: float, broken: bool, gap_m: float, required_m: float,
        shortfall_m: float) -> None:
    feeder = line(field, **LINES[voltage])
    task = field.started()

    finding = reported(field, task, tree_report(feeder, height_m=height_m, horizontal_m=0.0))

    check = finding["clearance_check"]
    assert {key: check[key] for key in ("applies", "rule_set", "rule_code", "outcome", "broken", "governing",
                                        "required_m", "measured_m", "shortfall_m")} == {
        "applies": True, "rule_set": CN_EPP, "rule_code": TREE_RULE, "outcome": "conflict", "broken": broken,
        "governing": "vertical", "required_m": required_m, "measured_m": gap_m, "shortfall_m": shortfall_m}
    conductor_m = LINES[voltage]["min_ground_clearance_m"]
    assert check["details"]["vertical"] == {"required_m": required_m, "gap_m": gap_m, "conductor_height_m": conductor_m,
                                            "conductor_height_is_default": False, "object_top_m": height_m}
    assert check["source"].startswith("电力设施保护条例实施细则 §16")
    # Below 35 kV the law is silent and the value is the utility's own: the finding says so.
    assert check["details"].get("utility_value", False) is (voltage == "10kV")
    assert check["measurement"] == {"height_m": height_m, "horizontal_m": 0.0, "conductor_height_m": None}
    # A vegetation finding gets no follow-up by itself; a broken clearance (a conflict) always does.
    assert (finding["follow_up_task_id"] is not None) is broken


@pytest.mark.parametrize(("voltage", "height_m", "horizontal_m", "broken", "required_m", "shortfall_m"), [
    pytest.param("10kV", 7.0, 3.4, True, 3.5, 0.1, id="10kV-0.1m-inside"),
    pytest.param("10kV", 7.0, 3.6, False, 3.5, -0.1, id="10kV-0.1m-outside"),
    pytest.param("110kV", 11.0, 5.9, True, 6.0, 0.1, id="110kV-0.1m-inside"),
    pytest.param("110kV", 11.0, 6.1, False, 6.0, -0.1, id="110kV-0.1m-outside"),
])
def test_a_tall_tree_beside_the_line_is_judged_by_the_horizontal_clearance_plus_the_wind_swing(
        field: Field, voltage: str, height_m: float, horizontal_m: float, broken: bool, required_m: float,
        shortfall_m: float) -> None:
    feeder = line(field, **LINES[voltage])
    task = field.started()

    finding = reported(field, task, tree_report(feeder, height_m=height_m, horizontal_m=horizontal_m))

    check = finding["clearance_check"]
    assert (check["broken"], check["governing"], check["required_m"], check["measured_m"], check["shortfall_m"]) == (
        broken, "horizontal", required_m, horizontal_m, shortfall_m)
    assert check["details"]["horizontal"] == {"required_m": required_m, "measured_m": horizontal_m,
                                              "wind_swing_m": LINES[voltage]["wind_swing_m"]}
    # The tree reaches within the vertical clearance (gap 1.0 m), so only the horizontal one can keep it clear.
    assert check["details"]["vertical"]["gap_m"] == 1.0
    assert check["wind_swing_is_default"] is False
    assert (finding["follow_up_task_id"] is not None) is broken


def test_a_low_tree_beside_the_line_keeps_the_vertical_clearance_and_is_clear(field: Field) -> None:
    feeder = line(field, **TEN_KV)
    task = field.started()

    # 1.0 m from the conductor (inside 3.5 m) but its top 8.0 - 4.9 = 3.1 m below it (outside 3.0 m).
    finding = reported(field, task, tree_report(feeder, height_m=4.9, horizontal_m=1.0))

    check = finding["clearance_check"]
    assert (check["broken"], check["governing"], check["details"]["vertical"]["gap_m"]) == (False, "horizontal", 3.1)
    assert finding["follow_up_task_id"] is None


def test_a_line_without_records_is_judged_with_the_default_conductor_height_and_says_so(field: Field) -> None:
    feeder = line(field, nominal_kv=10.0)
    task = field.started()

    # 5.5 - 2.6 = 2.9 m under the 5.5 m default conductor: 0.1 m inside the 3.0 m vertical clearance.
    by_default = reported(field, task, tree_report(feeder, height_m=2.6, horizontal_m=0.0))
    # The conductor measured on site at 6.0 m: 6.0 - 2.6 = 3.4 m, clear.
    measured = reported(field, task, tree_report(feeder, height_m=2.6, horizontal_m=0.0, conductor_height_m=6.0))

    default_check, measured_check = by_default["clearance_check"], measured["clearance_check"]
    assert default_check["broken"] is True and default_check["measured_m"] == 2.9
    assert default_check["details"]["vertical"]["conductor_height_m"] == 5.5
    assert default_check["details"]["vertical"]["conductor_height_is_default"] is True
    assert default_check["conductor_height_source"] == "default"
    assert (default_check["wind_swing_is_default"], default_check["details"]["horizontal"]["wind_swing_m"]) == (True, 1.0)
    assert measured_check["broken"] is False and measured_check["measured_m"] == 3.4
    assert measured_check["details"]["vertical"]["conductor_height_is_default"] is False
    assert measured_check["conductor_height_source"] == "measured"
    assert measured_check["measurement"]["conductor_height_m"] == 6.0


def test_a_broken_clearance_gets_a_follow_up_whatever_the_reporter_chose_and_a_kept_one_leaves_the_choice(
        field: Field) -> None:
    feeder = line(field, **TEN_KV)
    task = field.started()

    broken = reported(field, task, {**tree_report(feeder, category="clearance_violation", height_m=5.1,
                                                  horizontal_m=0.0), "severity": "major", "follow_up": False})
    kept_declined = reported(field, task, {**tree_report(feeder, category="clearance_violation", height_m=4.9,
                                                         horizontal_m=0.0), "severity": "major", "follow_up": False})
    kept_asked = reported(field, task, {**tree_report(feeder, height_m=4.9, horizontal_m=0.0), "follow_up": True})

    visit = field.get(broken["follow_up_task_id"])
    assert (visit["task_type"], visit["parent_task_id"], visit["origin"]) == (
        "encroachment_check", task["id"], {"kind": "finding", "id": broken["id"]})
    assert datetime.fromisoformat(visit["due_until"]) == NOW + timedelta(hours=24)
    assert kept_declined["follow_up_task_id"] is None
    assert field.get(kept_asked["follow_up_task_id"])["task_type"] == "line_patrol"


def test_a_voltage_the_rule_set_sets_no_tree_clearance_for_is_recorded_as_such_not_guessed(
        field: Field) -> None:
    feeder = line(field, nominal_kv=800.0, wind_swing_m=5.0, min_ground_clearance_m=20.0)
    task = field.started()

    finding = reported(field, task, tree_report(feeder, height_m=19.0, horizontal_m=0.0))

    assert finding["clearance_check"] == {
        "applies": False, "reason": f"Rule set {CN_EPP} sets no tree clearance for a 800 kV line.",
        "rule_set": CN_EPP, "line_nominal_kv": 800.0,
        "measurement": {"height_m": 19.0, "horizontal_m": 0.0, "conductor_height_m": None}}
    assert finding["follow_up_task_id"] is None


def test_findings_without_a_tree_carry_no_clearance_check(field: Field) -> None:
    task = field.started()

    finding = reported(field, task, {"category": "vegetation"})

    assert finding["clearance_check"] is None


@pytest.mark.parametrize("asset", ["cable", "pole", "none"])
def test_a_tree_measurement_beside_anything_but_an_overhead_line_is_refused_and_nothing_is_stored(
        field: Field, owner_engine: Engine, asset: str) -> None:
    task = field.started()
    if asset == "cable":
        body = tree_report(line(field, construction="cable"), height_m=5.0, horizontal_m=0.0)
    elif asset == "pole":
        pole = created(field.client, field.headers("dispatcher"), "poles")
        body = {**tree_report(pole, height_m=5.0, horizontal_m=0.0), "asset_type": "pole"}
    else:
        body = {"category": "vegetation", "tree": {"height_m": 5.0, "horizontal_m": 0.0}}

    refused = problem(field.try_report(task, **body), 422)

    assert [e["field"] for e in refused["errors"]] == ["tree" if asset == "cable" else "asset_type"]
    assert stored(owner_engine) == [] and follow_ups(owner_engine) == 0


def test_only_categories_that_take_a_tree_measurement_accept_one(field: Field, owner_engine: Engine) -> None:
    feeder = line(field, **TEN_KV)
    task = field.started()

    refused = problem(field.try_report(task, **tree_report(feeder, category="signage_missing", height_m=5.1,
                                                           horizontal_m=0.0)), 422)

    assert [e["field"] for e in refused["errors"]] == ["tree"]
    assert stored(owner_engine) == []


@pytest.mark.parametrize(("tree", "field_name"), [
    pytest.param({"height_m": 0.0, "horizontal_m": 1.0}, "tree.height_m", id="height-0"),
    pytest.param({"height_m": 150.1, "horizontal_m": 1.0}, "tree.height_m", id="height-150.1"),
    pytest.param({"height_m": 5.0, "horizontal_m": -0.1}, "tree.horizontal_m", id="horizontal-negative"),
    pytest.param({"height_m": 5.0, "horizontal_m": 500.1}, "tree.horizontal_m", id="horizontal-500.1"),
    pytest.param({"height_m": 5.0, "horizontal_m": 1.0, "conductor_height_m": 0.0}, "tree.conductor_height_m",
                 id="conductor-0"),
    pytest.param({"height_m": 5.0, "horizontal_m": 1.0, "conductor_height_m": 300.1}, "tree.conductor_height_m",
                 id="conductor-300.1"),
])
def test_a_measurement_out_of_bounds_is_refused(field: Field, owner_engine: Engine, tree: dict[str, float],
                                                 field_name: str) -> None:
    feeder = line(field, **TEN_KV)
    task = field.started()

    refused = problem(field.try_report(task, **{**tree_report(feeder), "tree": tree}), 422)

    assert field_name in [e["field"] for e in refused["errors"]]
    assert stored(owner_engine) == []


def test_the_bounds_themselves_are_accepted(field: Field) -> None:
    feeder = line(field, **HUNDRED_TEN_KV)
    task = field.started()

    tallest = reported(field, task, tree_report(feeder, height_m=150.0, horizontal_m=500.0, conductor_height_m=300.0))

    assert tallest["clearance_check"]["measurement"] == {"height_m": 150.0, "horizontal_m": 500.0,
                                                         "conductor_height_m": 300.0}
    assert tallest["clearance_check"]["broken"] is False


def test_a_replayed_report_is_one_finding_and_another_measurement_under_its_uuid_is_refused(
        field: Field, owner_engine: Engine) -> None:
    feeder = line(field, **TEN_KV)
    task = field.started()
    report = {"uuid": str(uuid4()), **tree_report(feeder, height_m=5.1, horizontal_m=0.0)}

    first = field.try_report(task, **report)
    again = field.try_report(task, **report)
    remeasured = field.try_report(task, **{**report, "tree": {"height_m": 5.2, "horizontal_m": 0.0}})

    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    assert [e["field"] for e in problem(remeasured, 422)["errors"]] == ["uuid"]
    assert [check["measurement"]["height_m"] for _category, check, _task in stored(owner_engine)] == [5.1]
    assert follow_ups(owner_engine) == 1


def phone(client: TestClient, device_token: DeviceLogin) -> Device:  # noqa: F811  (the fixture, passed in)
    return Device(client, device_token(Role.inspector, "phone-1"), clock=NOW)


def test_a_pushed_tree_finding_is_judged_the_same_and_a_replay_is_one_finding(
        field: Field, client: TestClient, device_token: DeviceLogin, owner_engine: Engine) -> None:  # noqa: F811
    feeder = line(field, **HUNDRED_TEN_KV)
    task = field.started()
    report = item("finding", {"task_uuid": task["uuid"], "severity": "minor",
                              **tree_report(feeder, height_m=11.0, horizontal_m=5.9)})
    device = phone(client, device_token)

    (result,) = device.push([report])
    (again,) = device.push([report])

    assert (result["status"], result["entity_type"]) == ("applied", "finding")
    assert (again["status"], again["original"]["status"]) == ("duplicate", "applied")
    ((category, check, follow_up_id),) = stored(owner_engine)
    assert (category, check["broken"], check["governing"], check["required_m"], check["shortfall_m"]) == (
        "vegetation", True, "horizontal", 6.0, 0.1)
    assert follow_up_id is not None and follow_ups(owner_engine) == 1
    shown = field.get(task["id"], by="inspector")["findings"]
    assert [f["clearance_check"] for f in shown] == [check]


def test_a_pushed_tree_finding_beside_a_cable_is_rejected_and_nothing_is_stored(
        field: Field, client: TestClient, device_token: DeviceLogin, owner_engine: Engine) -> None:  # noqa: F811
    cable = line(field, construction="cable")
    task = field.started()

    (result,) = phone(client, device_token).push([item("finding", {
        "task_uuid": task["uuid"], "severity": "minor", **tree_report(cable, height_m=5.0, horizontal_m=0.0)})])

    assert result["status"] == "rejected"
    assert [e["field"] for e in result["problem"]["errors"]] == ["tree"]
    assert stored(owner_engine) == [] and follow_ups(owner_engine) == 0
