"""Qualifications gate work (DOMAIN.md §1): a task that needs a certificate goes only to someone
holding one of that kind, for at least its voltage, valid through the local day the task is due;
the refusal names the certificate and why. Administrators record and remove certificates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tests.inspections.conftest import TASKS, Field, if_match, problem, qualify, task_body

SUBSTATION_10KV = [{"certificate_type": "substation_entry", "voltage_kv": 10}]
# NOW is 09:00 on 1 December in Hefei; a week later the window ends on 8 December (local).
DUE_ON = date(2026, 12, 8)


def gated_task(field: Field, **changes: Any) -> dict[str, Any]:
    return field.create(required_qualifications=SUBSTATION_10KV, task_type="substation_inspection", **changes)


def assign_to_inspector(field: Field, task: dict[str, Any]) -> Any:
    return field.try_act(task, "assign", "dispatcher", assignee_id=field.crew["inspector"].id)


def test_a_task_cannot_go_to_someone_without_the_certificate_it_needs(field: Field) -> None:
    refused = problem(assign_to_inspector(field, gated_task(field)), 409)

    assert "substation_entry" in refused["detail"] and "10 kV" in refused["detail"]
    assert refused["qualification"] == {"certificate_type": "substation_entry", "voltage_kv": 10.0,
                                        "reason": "missing"}


def test_a_certificate_for_a_lower_voltage_does_not_count(field: Field, session_factory: sessionmaker[Session]) -> None:
    qualify(session_factory, field.crew["inspector"].id, "substation_entry", max_voltage_kv=0.4, valid_until=DUE_ON)
    qualify(session_factory, field.crew["inspector"].id, "live_line_work", max_voltage_kv=35, valid_until=DUE_ON)

    assert problem(assign_to_inspector(field, gated_task(field)), 409)["qualification"]["reason"] == "missing"


def test_a_certificate_expiring_before_the_task_is_due_is_refused_naming_both_dates(
        field: Field, session_factory: sessionmaker[Session]) -> None:
    qualify(session_factory, field.crew["inspector"].id, "substation_entry", max_voltage_kv=35,
            valid_until=DUE_ON - timedelta(days=1))

    refused = problem(assign_to_inspector(field, gated_task(field)), 409)

    assert "expires on 2026-12-07 before the task is due on 2026-12-08" in refused["detail"]
    assert refused["qualification"]["reason"] == "expires"


def test_a_certificate_valid_through_the_due_day_lets_the_task_be_assigned(
        field: Field, session_factory: sessionmaker[Session]) -> None:
    qualify(session_factory, field.crew["inspector"].id, "substation_entry", max_voltage_kv=10, valid_until=DUE_ON)

    assigned = assign_to_inspector(field, gated_task(field))

    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"]["id"] == field.crew["inspector"].id


def test_the_due_day_is_the_utility_local_day(field: Field, session_factory: sessionmaker[Session]) -> None:
    # 17:00 UTC on 8 December is 01:00 on 9 December in Hefei: a certificate ending on the 8th
    # does not cover the small hours of the 9th.
    qualify(session_factory, field.crew["inspector"].id, "substation_entry", max_voltage_kv=10, valid_until=DUE_ON)
    late = gated_task(field, due_until="2026-12-08T17:00:00Z")

    assert "due on 2026-12-09" in problem(assign_to_inspector(field, late), 409)["detail"]


def test_assigning_at_creation_is_gated_too_and_stores_nothing_when_refused(field: Field,
                                                                           owner_engine: Engine) -> None:
    body = task_body(required_qualifications=SUBSTATION_10KV, assignee_id=field.crew["inspector"].id)

    problem(field.client.post(TASKS, json=body, headers=field.headers("dispatcher")), 409)

    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM field_tasks")).scalar_one() == 0


def test_an_administrator_records_and_removes_certificates_and_both_are_audited(
        field: Field, owner_engine: Engine) -> None:
    inspector = field.crew["inspector"].id
    url = f"/api/v1/users/{inspector}/qualifications"
    certificate = {"certificate_type": "substation_entry", "certificate_number": "AH-2026-117",
                   "max_voltage_kv": "35", "valid_until": "2027-06-30"}

    added = field.client.post(url, json=certificate, headers=field.headers("admin"))
    assert added.status_code == 201, added.text
    (held,) = added.json()["qualifications"]
    assert (held["certificate_type"], held["max_voltage_kv"], held["valid_until"]) == ("substation_entry", 35.0,
                                                                                       "2027-06-30")
    assert assign_to_inspector(field, gated_task(field)).status_code == 200

    removed = field.client.delete(f"{url}/{held['id']}", headers=field.headers("admin"))
    assert removed.status_code == 200 and removed.json()["qualifications"] == []
    problem(field.client.delete(f"{url}/{held['id']}", headers=field.headers("admin")), 404)
    problem(assign_to_inspector(field, gated_task(field)), 409)
    with owner_engine.connect() as conn:
        actions = list(conn.execute(text("SELECT action FROM audit_log WHERE entity_type = 'user' AND entity_id = :id "
                                         "ORDER BY id"), {"id": str(inspector)}).scalars())
    assert actions[-2:] == ["user.qualification_add", "user.qualification_remove"]


def test_a_certificate_with_an_impossible_voltage_or_date_is_refused(field: Field) -> None:
    url = f"/api/v1/users/{field.crew['inspector'].id}/qualifications"
    for bad in ({"max_voltage_kv": 0}, {"valid_until": "next year"}, {"certificate_type": ""}):
        body = {"certificate_type": "substation_entry", "max_voltage_kv": 10, "valid_until": "2027-01-01", **bad}
        problem(field.client.post(url, json=body, headers=field.headers("admin")), 422)


def test_moving_the_due_date_past_the_assignee_certificate_is_refused(
        field: Field, session_factory: sessionmaker[Session]) -> None:
    qualify(session_factory, field.crew["inspector"].id, "substation_entry", max_voltage_kv=10, valid_until=DUE_ON)
    task = assign_to_inspector(field, gated_task(field)).json()

    later = field.client.patch(f"{TASKS}/{task['id']}", json={"due_until": "2026-12-20T01:00:00Z"},
                               headers=field.headers("dispatcher", **if_match(task)))

    assert "expires on 2026-12-08 before the task is due on 2026-12-20" in problem(later, 409)["detail"]
    assert field.get(task["id"])["due_until"] == task["due_until"]
