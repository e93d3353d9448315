"""Administrators keep the inspection plans at /inspection-plans: they read them and change a
plan's cycle, band, checklist and qualifications with If-Match; every change is audited and
announced, and a bad or stale change stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.database import unit_of_work
from core.permissions import Role
from tests.cases.conftest import assert_problem
from tests.inspections import plan_fixtures as make

Auth = Callable[[Role], dict[str, str]]
PLANS = "/api/v1/inspection-plans"


@pytest.fixture
def mv_plan(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as db:
        make.plan(db, code="overhead-line-mv", asset_class="overhead_line", cycle_days=30, min_kv=1, max_kv=35,
                  anchor_on=date(2026, 1, 1), qualifications=[{"certificate_type": "line_patrol"}],
                  template=None)


def edited(**changes: Any) -> dict[str, Any]:
    body = {"name": "10/20 kV overhead line patrol", "min_kv": 1, "max_kv": 35, "cycle_days": 14, "window_days": 5,
            "priority": 2, "task_type": "line_patrol", "checklist_code": "substation_inspection",
            "required_qualifications": [{"certificate_type": "line_patrol"}, {"certificate_type": "climbing",
                                                                              "voltage_kv": 35}],
            "anchor_on": "2026-02-01", "active": True, "source": "utility standard Q/GW 2026-03: fortnightly"}
    return body | changes


@pytest.mark.usefixtures("mv_plan")
def test_an_administrator_changes_a_plans_cycle_and_checklist_and_the_change_is_audited(
        client: TestClient, auth: Auth, owner_engine: Engine) -> None:
    listed = client.get(PLANS, headers=auth(Role.admin))
    assert listed.status_code == 200, listed.text
    assert [p["code"] for p in listed.json()] == ["overhead-line-mv"]
    read = client.get(f"{PLANS}/overhead-line-mv", headers=auth(Role.admin))
    assert read.headers["ETag"] == '"1"' and read.json()["cycle_days"] == 30

    response = client.put(f"{PLANS}/overhead-line-mv", json=edited(),
                          headers={**auth(Role.admin), "If-Match": '"1"'})

    assert response.status_code == 200, response.text
    plan = response.json()
    assert response.headers["ETag"] == '"2"' and plan["version"] == 2
    assert (plan["cycle_days"], plan["window_days"], plan["checklist_code"], plan["anchor_on"]) == (
        14, 5, "substation_inspection", "2026-02-01")
    assert plan["required_qualifications"] == [{"certificate_type": "line_patrol", "voltage_kv": None},
                                               {"certificate_type": "climbing", "voltage_kv": 35}]
    assert client.get(f"{PLANS}/overhead-line-mv", headers=auth(Role.admin)).json() == plan
    with owner_engine.connect() as conn:
        audit = conn.execute(text("SELECT actor_name, before, after FROM audit_log "
                                  "WHERE action = 'inspection_plan.update'")).one()
        events = conn.execute(text("SELECT payload FROM outbox_events "
                                   "WHERE event_type = 'inspection_plan.updated'")).scalars().all()
    assert audit.actor_name == "test-admin"
    assert (audit.before["cycle_days"], audit.before["checklist_code"]) == (30, None)
    assert (audit.after["cycle_days"], audit.after["checklist_code"], audit.after["version"]) == (
        14, "substation_inspection", 2)
    assert events == [{"code": "overhead-line-mv", "version": 2, "active": True}]


@pytest.mark.usefixtures("mv_plan")
def test_only_administrators_read_or_change_plans(client: TestClient, auth: Auth) -> None:
    for role in (Role.dispatcher, Role.supervisor, Role.inspector, Role.approver, Role.auditor):
        assert_problem(client.get(PLANS, headers=auth(role)), 403)
        assert_problem(client.put(f"{PLANS}/overhead-line-mv", json=edited(), headers={**auth(role), "If-Match": '"1"'}),
                       403)


@pytest.mark.usefixtures("mv_plan")
def test_a_stale_missing_or_invalid_change_stores_nothing(client: TestClient, auth: Auth,
                                                          owner_engine: Engine) -> None:
    url, admin = f"{PLANS}/overhead-line-mv", auth(Role.admin)

    assert_problem(client.put(url, json=edited(), headers={**admin, "If-Match": '"7"'}), 412)
    assert_problem(client.put(url, json=edited(), headers=admin), 428)
    unknown = assert_problem(client.put(url, json=edited(checklist_code="nope"), headers={**admin, "If-Match": '"1"'}),
                             422)
    assert unknown["errors"] == [{"field": "checklist_code", "message": "unknown checklist"}]
    for bad in ({"cycle_days": 0}, {"max_kv": 1}, {"priority": 9}, {"task_type": "picnic"}, {"asset_class": "pole"}):
        assert_problem(client.put(url, json=edited(**bad), headers={**admin, "If-Match": '"1"'}), 422)
    assert_problem(client.put(f"{PLANS}/no-such-plan", json=edited(), headers={**admin, "If-Match": '"1"'}), 404)

    assert client.get(url, headers=admin).json()["version"] == 1
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'inspection_plan.update'")).scalar() == 0
