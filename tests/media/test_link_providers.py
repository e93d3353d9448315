"""What a photo may be attached to, who may attach it and who may see it: the rules of the record
it belongs to (a task, a finding, a meter reading, a case), as each domain's link provider states
them. The upload and read routes rely on these answers (tests/media/test_uploads.py, test_reads.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from inspections import service as task_service
from inspections.specs import FindingSpec
from inspections.workflow import TaskAction
from media.links import LinkedRecord, providers
from tests.cases.conftest import Desk, desk, network, people  # noqa: F401  (fixtures)
from tests.conftest import Person
from tests.inspections.conftest import NOW, crew, make_task  # noqa: F401  (fixtures)
from tests.inspections.readings.conftest import Area, Meters, area, meters  # noqa: F401  (fixtures)

LINE = "LINESTRING(117.2 31.8,117.21 31.8,117.22 31.805)"


def actor(person: Person) -> Actor:
    return Actor(user_id=person.id, username=person.username, role=person.role)


def found(session_factory: sessionmaker[Session], kind: str, ref: str) -> LinkedRecord:
    with session_factory() as db:
        record = providers()[kind].find(db=db, ref=providers()[kind].normalise_ref(ref))
    assert record is not None, f"no {kind} {ref}"
    return record


def rights(session_factory: sessionmaker[Session], record: LinkedRecord, person: Person) -> tuple[bool, bool]:
    """(may attach, may view) for `person`."""
    provider = providers()[record.kind]
    with session_factory() as db:
        return (provider.may_attach(db=db, actor=actor(person), record=record),
                provider.may_view(db=db, actor=actor(person), record=record))


def task_uuid(session_factory: sessionmaker[Session], task_id: int) -> str:
    with session_factory() as db:
        return str(task_service.get_task(db=db, actor=Actor.system("tests"), task_id=task_id).uuid)


def test_references_are_read_in_one_canonical_form() -> None:
    ref = uuid.uuid4()
    assert providers()["task"].normalise_ref(str(ref).upper()) == str(ref)
    assert providers()["case"].normalise_ref(" 007 ") == "7"
    for kind, bad in (("task", "12"), ("finding", "not-a-uuid"), ("reading", ""), ("case", "0"), ("case", "abc")):
        with pytest.raises(ValueError):
            providers()[kind].normalise_ref(bad)


def test_the_kinds_that_a_device_creates_may_arrive_after_their_photos() -> None:
    assert {kind: p.deferred for kind, p in providers().items()} == {
        "case": False, "task": True, "finding": True, "reading": True}


def test_a_patrol_photo_is_measured_against_the_line_and_the_task_window(
        session_factory: sessionmaker[Session], crew: dict[str, Person]) -> None:  # noqa: F811
    task_id = make_task(session_factory, location_wkt=LINE, assignee_id=crew["inspector"].id)

    record = found(session_factory, "task", task_uuid(session_factory, task_id))

    assert (record.record_id, record.entity_type, record.task_type) == (task_id, "field_task", "line_patrol")
    assert record.geometry_wkt == LINE
    assert record.window == (NOW, NOW + timedelta(days=7))
    with session_factory() as db:
        assert providers()["task"].find(db=db, ref=str(uuid.uuid4())) is None


def test_the_assignee_and_the_planners_attach_to_a_task_and_whoever_sees_the_task_sees_its_photos(
        session_factory: sessionmaker[Session], crew: dict[str, Person]) -> None:  # noqa: F811
    record = found(session_factory, "task", task_uuid(
        session_factory, make_task(session_factory, assignee_id=crew["inspector"].id)))

    assert rights(session_factory, record, crew["inspector"]) == (True, True)
    assert rights(session_factory, record, crew["dispatcher"]) == (True, True)
    assert rights(session_factory, record, crew["supervisor"]) == (True, True)
    assert rights(session_factory, record, crew["auditor"]) == (False, True)
    assert rights(session_factory, record, crew["inspector2"]) == (False, False)


def test_a_finding_photo_is_placed_at_the_finding_and_belongs_to_its_reporter(
        session_factory: sessionmaker[Session], crew: dict[str, Person]) -> None:  # noqa: F811
    inspector = actor(crew["inspector"])
    task_id = make_task(session_factory, location_wkt=LINE, assignee_id=crew["inspector"].id)
    finding_uuid = uuid.uuid4()
    with session_factory() as db, db.begin():
        for action in (TaskAction.accept, TaskAction.start):
            task_service.act(db=db, actor=inspector, now=NOW, task_id=task_id, action=action, expected_version=None)
        task_service.report_finding(db=db, actor=inspector, now=NOW, task_id=task_id, finding_uuid=finding_uuid,
                                    spec=FindingSpec(severity="minor", category="vegetation",
                                                     location_wkt="POINT(117.205 31.8)"))

    record = found(session_factory, "finding", str(finding_uuid))

    assert (record.entity_type, record.geometry_wkt, record.task_type) == ("finding", "POINT(117.205 31.8)",
                                                                           "line_patrol")
    assert record.window == (NOW, NOW + timedelta(days=7))
    assert rights(session_factory, record, crew["inspector"]) == (True, True)
    assert rights(session_factory, record, crew["inspector2"]) == (False, False)
    assert rights(session_factory, record, crew["auditor"]) == (False, True)


def test_a_meter_reading_photo_is_placed_at_the_customer_and_belongs_to_the_reader(
        session_factory: sessionmaker[Session], meters: Meters, area: Area,  # noqa: F811
        crew: dict[str, Person]) -> None:  # noqa: F811
    reading: dict[str, Any] = meters.recorded(area.residential, "2026-11", 1200)

    record = found(session_factory, "reading", reading["uuid"])

    assert record.entity_type == "meter_reading" and record.geometry_wkt.startswith("POINT(")
    assert rights(session_factory, record, crew["inspector"]) == (True, True)
    assert rights(session_factory, record, crew["dispatcher"]) == (True, True)
    assert rights(session_factory, record, crew["inspector2"]) == (False, False)
    assert rights(session_factory, record, crew["auditor"]) == (False, True)


def test_the_desk_attaches_to_any_case_an_inspector_only_to_one_they_work_on_and_everyone_sees_them(
        session_factory: sessionmaker[Session], desk: Desk, people: dict[str, Person]) -> None:  # noqa: F811
    case = desk.report(by="dispatcher")

    record = found(session_factory, "case", str(case["id"]))

    assert (record.record_id, record.entity_type, record.window) == (case["id"], "case", None)
    assert record.geometry_wkt.startswith("POINT(")
    assert rights(session_factory, record, people["approver"]) == (True, True)
    assert rights(session_factory, record, people["dispatcher"]) == (True, True)
    assert rights(session_factory, record, people["inspector"]) == (False, True)
    assert rights(session_factory, record, people["auditor"]) == (False, True)
    with session_factory() as db:
        assert providers()["case"].find(db=db, ref=str(case["id"] + 1000)) is None
