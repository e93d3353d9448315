"""Rule sets are data (issue 3 §1): shipped as files, loaded by the migration, immutable per code and
version, chosen per screening, and recorded with every screening so old results stay reproducible.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.fingerprint import json_fingerprint
from core.permissions import Role
from gis.rule_sets.definition import Activity
from gis.rule_sets.service import parse_definition
from tests.gis.screening.conftest import (
    CN_FILE,
    CN_FILE_2011_1,
    HEFEI,
    NORTH,
    RULE_SETS,
    US_FILE,
    US_FILE_2010_1,
    Auth,
    Desk,
    assert_problem,
    beside,
    count_rows,
    error_fields,
    geodesic_line,
    point,
    read_rule_file,
)


@pytest.fixture
def desk(client: TestClient, auth: Auth) -> Desk:
    return Desk(client, auth(Role.dispatcher))


@pytest.fixture
def admin(auth: Auth) -> dict[str, str]:
    return auth(Role.admin)


def cn_version(version: str, *, general_10kv_m: float, is_default: bool,
               effective_date: str = "2024-01-01") -> dict[str, Any]:
    """The shipped CN rule set as a new version whose 1-20 kV general zone is `general_10kv_m` wide."""
    content = copy.deepcopy(read_rule_file(CN_FILE))
    content.update(version=version, is_default=is_default, effective_date=effective_date)
    general = next(rule for rule in content["rules"] if rule["code"] == "zone.overhead.general")
    general["bands"][1]["distance_m"] = general_10kv_m
    return content


def listed(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = client.get(RULE_SETS, headers=headers)
    assert response.status_code == 200, response.text
    return {f"{r['code']}@{r['version']}": r for r in response.json()}


SHIPPED = {"CN-EPP@2011.1": CN_FILE_2011_1, "US-OSHA@2010.1": US_FILE_2010_1, "CN-EPP@2011.2": CN_FILE,
           "US-OSHA@2010.2": US_FILE}


def test_shipped_files_parse_and_every_activity_refers_to_rules_with_a_legal_source() -> None:
    cn, us = parse_definition(read_rule_file(CN_FILE)), parse_definition(read_rule_file(US_FILE))

    assert set(cn.activities) == set(Activity)
    assert set(us.activities) == {Activity.crane, Activity.excavation, Activity.vehicle_passage}
    for definition in (cn, us):
        for activity in definition.activities:
            for rule, _ in definition.rules_for(activity):
                assert rule.source and (rule.vertical is None or rule.vertical.source)


def test_the_new_versions_keep_the_earlier_zone_and_excavation_rules_unchanged() -> None:
    """The migration re-labels the derived zones to CN-EPP 2011.2 instead of rebuilding them: that is
    only right while its zone rules are 2011.1's."""
    for new, old in ((CN_FILE, CN_FILE_2011_1), (US_FILE, US_FILE_2010_1)):
        before = {rule["code"]: rule for rule in read_rule_file(old)["rules"]}
        after = {rule["code"]: rule for rule in read_rule_file(new)["rules"]}
        for code, rule in before.items():
            if rule["kind"] in ("zone", "manual_zone", "foundation", "facility_radius") or "excavation" in code:
                assert after[code] == rule, code


def test_migrations_load_the_shipped_files_with_the_newest_cn_set_as_the_default(client: TestClient,
                                                                                  desk: Desk) -> None:
    rule_sets = listed(client, desk.headers)

    assert set(rule_sets) == set(SHIPPED)
    assert [name for name, r in rule_sets.items() if r["is_default"]] == ["CN-EPP@2011.2"]
    for name, path in SHIPPED.items():
        assert rule_sets[name]["sha256"] == json_fingerprint(read_rule_file(path))
    assert all(r["loaded_by"].startswith("migration") for r in rule_sets.values())
    one = client.get(f"{RULE_SETS}/CN-EPP/2011.2", headers=desk.headers).json()
    assert one["definition"] == read_rule_file(CN_FILE)


def test_loading_the_same_file_again_changes_nothing(client: TestClient, admin: dict[str, str],
                                                     owner_engine: Engine) -> None:
    before = listed(client, admin)

    response = client.post(RULE_SETS, json=read_rule_file(CN_FILE), headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == before["CN-EPP@2011.2"]["id"]
    assert listed(client, admin) == before and count_rows(owner_engine, "rule_sets") == len(SHIPPED)


def test_same_code_and_version_with_other_content_is_a_conflict(client: TestClient, admin: dict[str, str]) -> None:
    changed = cn_version("2011.2", general_10kv_m=8.0, is_default=True, effective_date="2011-01-08")

    response = client.post(RULE_SETS, json=changed, headers=admin)

    assert "new version" in assert_problem(response, 409)["detail"]
    stored = client.get(f"{RULE_SETS}/CN-EPP/2011.2", headers=admin).json()
    assert stored["definition"] == read_rule_file(CN_FILE)


def test_new_version_is_created_and_a_screening_can_name_it(client: TestClient, admin: dict[str, str],
                                                            desk: Desk) -> None:
    desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=10.0, conductor_spread_m=3.0)
    spot = point(beside(HEFEI, NORTH, 9.0))  # 7.5 m from the outer conductor

    response = client.post(RULE_SETS, json=cn_version("2024.1", general_10kv_m=8.0, is_default=False), headers=admin)

    assert response.status_code == 201, response.text
    assert response.json()["is_default"] is False and listed(client, admin)["CN-EPP@2011.2"]["is_default"]
    named = desk.screen(spot, "connection", rule_set="CN-EPP@2024.1")
    assert named["rule_set"]["version"] == "2024.1" and named["verdict"] == "conditional"
    assert named["findings"][0]["required_m"] == 8.0
    assert named["findings"][0]["measured_m"] == pytest.approx(7.5, abs=0.05)
    latest = desk.screen(spot, "connection", rule_set="CN-EPP")  # the newest version in force today
    assert latest["rule_set"]["version"] == "2024.1"
    for version, default in (("2011.2", desk.screen(spot, "connection")),
                             ("2011.1", desk.screen(spot, "connection", rule_set="CN-EPP@2011.1"))):
        assert default["rule_set"]["version"] == version and default["verdict"] == "clear"


def test_stored_screening_is_reproduced_after_a_newer_default_is_loaded(client: TestClient, admin: dict[str, str],
                                                                        desk: Desk) -> None:
    line = desk.line(geodesic_line(HEFEI, NORTH), nominal_kv=10.0, conductor_spread_m=3.0)
    spot = point(beside(HEFEI, NORTH, 6.0))
    made = desk.screen(spot, "connection")
    assert made["rule_set"]["version"] == "2011.2" and made["findings"][0]["required_m"] == 5.0

    loaded = client.post(RULE_SETS, json=cn_version("2024.1", general_10kv_m=8.0, is_default=True), headers=admin)

    assert loaded.status_code == 201, loaded.text
    again = client.get(f"/api/v1/screenings/{made['id']}", headers=desk.headers)
    assert again.status_code == 200, again.text
    kept = ("verdict", "rule_set", "findings", "findings_total", "nearest_transformers", "on_date", "activity")
    assert {k: again.json()[k] for k in kept} == {k: made[k] for k in kept}
    now = desk.screen(spot, "connection")
    assert now["rule_set"]["version"] == "2024.1" and now["findings"][0]["required_m"] == 8.0
    zone = desk.line_zones(line)[0]["properties"]  # the map switches to the new default with it
    assert zone["rule_set"] == "CN-EPP 2024.1" and zone["half_width_m"] == 9.5


def _without_rules(content: dict[str, Any]) -> None:
    content["rules"] = []


def _unknown_rule_in_activity(content: dict[str, Any]) -> None:
    content["activities"]["crane"].append({"rule": "clearance.fishing_rod", "outcome": "conflict"})


def _bands_out_of_order(content: dict[str, Any]) -> None:
    content["rules"][0]["bands"].reverse()


def _unknown_activity(content: dict[str, Any]) -> None:
    content["activities"]["fishing"] = []


def _bad_version(content: dict[str, Any]) -> None:
    content["version"] = "2025 draft"


@pytest.mark.parametrize(("spoil", "field"), [
    (_without_rules, "rules"),
    (_unknown_rule_in_activity, ""),
    (_bands_out_of_order, "rules.0"),
    (_unknown_activity, "activities.fishing.[key]"),
    (_bad_version, "version"),
])
def test_invalid_rule_set_file_is_refused_and_nothing_is_loaded(client: TestClient, admin: dict[str, str],
                                                                owner_engine: Engine, spoil: Any,
                                                                field: str) -> None:
    content = cn_version("2025.1", general_10kv_m=5.0, is_default=True)
    spoil(content)

    response = client.post(RULE_SETS, json=content, headers=admin)

    assert field in error_fields(response)
    assert count_rows(owner_engine, "rule_sets") == len(SHIPPED)
    assert listed(client, admin)["CN-EPP@2011.2"]["is_default"]


@pytest.mark.parametrize("role", [Role.dispatcher, Role.approver, Role.inspector, Role.auditor])
def test_only_an_administrator_may_load_a_rule_set(client: TestClient, auth: Auth, owner_engine: Engine,
                                                   role: Role) -> None:
    response = client.post(RULE_SETS, json=cn_version("2024.1", general_10kv_m=8.0, is_default=False),
                           headers=auth(role))

    assert_problem(response, 403)
    assert count_rows(owner_engine, "rule_sets") == len(SHIPPED)


def test_screening_that_names_an_unknown_rule_set_is_refused_and_not_stored(desk: Desk,
                                                                           owner_engine: Engine) -> None:
    response = desk.screen_response(point(HEFEI), "connection", rule_set="CN-EPP@1999.9")

    assert "CN-EPP@2011.2" in assert_problem(response, 404)["detail"]
    assert count_rows(owner_engine, "screenings") == 0
