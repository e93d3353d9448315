"""Findings: the inspector reports defects on their task; the same report sent again is one finding;
a critical one reaches the dispatchers (outbox `finding.critical`, written with the finding or not
at all) and gets a follow-up visit due within the severity's handling time (DOMAIN.md §5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.outbox import OutboxEvent
from core.permissions import Role
from inspections import service
from inspections.models import Finding
from inspections.specs import FindingSpec
from inspections.workflow import TaskAction
from tests.inspections.conftest import NOW, Field, make_task, problem

FINDINGS = "/api/v1/findings"
POLE_17 = {"type": "Point", "coordinates": [117.2281, 31.8209]}


def events(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("SELECT entity_id, payload FROM outbox_events "
                                                   "WHERE event_type = :t ORDER BY id"), {"t": event_type}).mappings()]


def reported(field: Field, task: dict[str, Any], **finding: Any) -> dict[str, Any]:
    response = field.try_report(task, **finding)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_minor_finding_is_recorded_on_the_task_without_alarming_anyone(field: Field, owner_engine: Engine) -> None:
    task = field.started()

    finding = reported(field, task, severity="minor", category="signage_missing", location=POLE_17,
                       description="pole number plate missing")

    assert (finding["task_id"], finding["severity"], finding["location"]) == (task["id"], "minor", POLE_17)
    assert finding["follow_up_task_id"] is None and finding["reported_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert [f["id"] for f in field.get(task["id"], by="inspector")["findings"]] == [finding["id"]]
    assert [e["entity_id"] for e in events(owner_engine, "finding.reported")] == [str(finding["id"])]
    assert events(owner_engine, "finding.critical") == []


def test_a_critical_finding_is_announced_with_its_place_and_gets_an_immediate_follow_up(
        field: Field, owner_engine: Engine) -> None:
    task = field.started()

    finding = reported(field, task, severity="critical", category="conductor_damage", location=POLE_17,
                       description="conductor down across the village road")

    (event,) = events(owner_engine, "finding.critical")
    assert event["entity_id"] == str(finding["id"])
    assert event["payload"] == {"id": finding["id"], "task_id": task["id"], "severity": "critical",
                                "category": "conductor_damage", "location": POLE_17,
                                "follow_up_task_id": finding["follow_up_task_id"]}
    follow_up = field.get(finding["follow_up_task_id"])
    assert (follow_up["task_type"], follow_up["priority"], follow_up["state"]) == ("fault_visit", 1, "planned")
    assert follow_up["parent_task_id"] == task["id"]
    assert follow_up["origin"] == {"kind": "finding", "id": finding["id"]}
    assert follow_up["location"] == POLE_17
    assert datetime.fromisoformat(follow_up["due_until"]) == NOW + timedelta(hours=2)


def test_the_critical_event_is_written_in_the_finding_transaction(session_factory: sessionmaker[Session],
                                                                   role_users: dict[Role, int]) -> None:
    inspector = Actor(user_id=role_users[Role.inspector], username="test-inspector", role=Role.inspector)
    task_id = make_task(session_factory, assignee_id=inspector.user_id)
    with session_factory() as db, db.begin():
        version = service.act(db=db, actor=inspector, now=NOW, task_id=task_id, action=TaskAction.accept,
                              expected_version=None).version
    spec = FindingSpec(severity="critical", category="pole_tilt")

    for outcome in ("rolled back", "committed"):
        with session_factory() as db:
            finding, created = service.report_finding(db=db, actor=inspector, now=NOW, task_id=task_id, spec=spec,
                                                      finding_uuid=uuid4())
            assert created and db.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "finding.critical",
                                                                   OutboxEvent.entity_id == str(finding.id)))
            if outcome == "committed":
                db.commit()
            else:
                db.rollback()
        with session_factory() as db:
            stored = list(db.scalars(select(Finding.id)))
            announced = list(db.scalars(select(OutboxEvent.entity_id)
                                        .where(OutboxEvent.event_type == "finding.critical")))
        assert announced == [str(i) for i in stored], outcome
    assert len(stored) == 1 and version == 3


def test_the_same_finding_sent_twice_is_one_finding_and_a_different_one_under_its_uuid_is_refused(
        field: Field, owner_engine: Engine) -> None:
    task = field.started()
    report = {"uuid": str(uuid4()), "severity": "critical", "category": "pole_tilt", "location": POLE_17}

    first = field.try_report(task, **report)
    again = field.try_report(task, **report)
    changed = field.try_report(task, **{**report, "severity": "minor"})

    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    assert [e["field"] for e in problem(changed, 422)["errors"]] == ["uuid"]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT severity FROM findings")).scalars().all() == ["critical"]
        assert conn.execute(text("SELECT count(*) FROM field_tasks WHERE parent_task_id IS NOT NULL")).scalar() == 1
    assert len(events(owner_engine, "finding.critical")) == 1


def test_whether_a_finding_gets_a_follow_up_is_the_reporter_or_the_category_call(field: Field) -> None:
    task = field.started()

    kept = reported(field, task, severity="major", category="insulator_damage", follow_up=False)
    asked = reported(field, task, severity="minor", category="vegetation", follow_up=True)
    by_category = reported(field, task, severity="major", category="encroachment")

    assert kept["follow_up_task_id"] is None
    vegetation = field.get(asked["follow_up_task_id"])
    assert vegetation["task_type"] == "line_patrol"
    assert datetime.fromisoformat(vegetation["due_until"]) == NOW + timedelta(hours=168)
    encroachment = field.get(by_category["follow_up_task_id"])
    assert encroachment["task_type"] == "encroachment_check"
    assert datetime.fromisoformat(encroachment["due_until"]) == NOW + timedelta(hours=24)


def test_a_finding_is_placed_where_it_says_else_on_its_asset_else_at_the_task(field: Field) -> None:
    pole = field.client.post("/api/v1/network/poles", headers=field.headers("dispatcher"), json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [117.229, 31.821]},
        "properties": {"external_id": "pole-17", "kind": "pole", "nominal_kv": 10.0}}).json()
    task = field.started()

    on_asset = reported(field, task, asset_type="pole", asset_id=pole["id"])
    at_task = reported(field, task)

    assert on_asset["location"] == {"type": "Point", "coordinates": [117.229, 31.821]}
    assert on_asset["asset"] == {"type": "pole", "id": pole["id"]}
    assert at_task["location"] == task["location"]


def test_only_the_assignee_reports_findings_and_only_while_working(field: Field) -> None:
    task = field.started()

    problem(field.try_report(task, by="supervisor"), 403)
    problem(field.try_report(task, by="inspector2"), 404)
    assert [e["field"] for e in problem(field.try_report(task, category="ufo"), 422)["errors"]] == ["category"]
    submitted = field.act(task, "submit", "inspector")
    problem(field.try_report(submitted), 409)


def test_the_console_lists_findings_by_severity_follow_up_state_and_area(field: Field) -> None:
    task = field.started()
    critical = reported(field, task, severity="critical", category="pole_tilt", location=POLE_17)
    minor = reported(field, task, severity="minor", category="signage_missing",
                     location={"type": "Point", "coordinates": [118.5, 32.5]})
    done = reported(field, task, severity="major", category="grounding_fault")
    follow_up = field.get(done["follow_up_task_id"])
    field.act(follow_up, "cancel", "dispatcher", reason="fixed by the line crew the same day")

    def ids(**params: Any) -> list[int]:
        response = field.client.get(FINDINGS, params=params, headers=field.headers("dispatcher"))
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["items"]]

    assert ids() == [critical["id"], minor["id"], done["id"]]
    assert ids(severity="critical") == [critical["id"]]
    assert ids(follow_up="open") == [critical["id"]]
    assert ids(follow_up="done") == [done["id"]]
    assert ids(follow_up="none") == [minor["id"]]
    assert ids(bbox="118,32,119,33") == [minor["id"]]
    listed = field.client.get(FINDINGS, params={"severity": "major"}, headers=field.headers("dispatcher")).json()
    assert listed["items"][0]["follow_up_state"] == "cancelled"
    problem(field.client.get(FINDINGS, headers=field.headers("inspector")), 403)
