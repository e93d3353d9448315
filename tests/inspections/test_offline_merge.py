"""The merge path offline sync uses (`inspections.service.update_task` and `save_answers` with the
version a device edited): fields nobody else changed since apply; a field the server changed to
another value is kept as a conflict with both values, never overwritten; the same rules of who may
change what hold as over the API. Also: a task created with a device's uuid is created once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.errors import PermissionDenied
from core.permissions import Role
from inspections import service
from inspections.models import FieldTask
from inspections.versioning import MergeOutcome
from inspections.workflow import TaskAction, TaskType
from tests.inspections.conftest import NOW, make_task

T = TypeVar("T")


@pytest.fixture
def people(role_users: dict[Role, int]) -> dict[str, Actor]:
    return {role.value: Actor(user_id=role_users[role], username=f"test-{role.value}", role=role)
            for role in (Role.dispatcher, Role.inspector, Role.supervisor)}


def committed(session_factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    with session_factory() as db, db.begin():
        return work(db)


def task_row(session_factory: sessionmaker[Session], task_id: int) -> FieldTask:
    with session_factory() as db:
        task = db.get(FieldTask, task_id)
        assert task is not None
        db.expunge(task)
        return task


def started_task(session_factory: sessionmaker[Session], people: dict[str, Actor], **changes: Any) -> int:
    task_id = make_task(session_factory, assignee_id=people["inspector"].user_id, **changes)
    for action in (TaskAction.accept, TaskAction.start):
        committed(session_factory, lambda db, a=action: service.act(  # type: ignore[misc]
            db=db, actor=people["inspector"], now=NOW, task_id=task_id, action=a, expected_version=None))
    return task_id


def update(session_factory: sessionmaker[Session], actor: Actor, task_id: int, base: int,
           **changes: Any) -> MergeOutcome:
    return committed(session_factory, lambda db: service.update_task(db=db, actor=actor, now=NOW, task_id=task_id,
                                                                     changes=changes, base_version=base))


def test_an_edit_on_an_old_version_applies_the_fields_nobody_else_changed(
        session_factory: sessionmaker[Session], people: dict[str, Actor]) -> None:
    task_id = started_task(session_factory, people)
    base = task_row(session_factory, task_id).version

    update(session_factory, people["dispatcher"], task_id, base, priority=1)
    outcome = update(session_factory, people["inspector"], task_id, base, notes="dog on the premises")

    assert outcome.applied == {"notes": "dog on the premises"} and outcome.conflicts == {}
    task = task_row(session_factory, task_id)
    assert (task.priority, task.notes, task.version) == (1, "dog on the premises", outcome.version)


def test_a_field_both_sides_changed_is_kept_as_a_conflict_and_not_overwritten(
        session_factory: sessionmaker[Session], people: dict[str, Actor]) -> None:
    task_id = started_task(session_factory, people)
    base = task_row(session_factory, task_id).version
    update(session_factory, people["dispatcher"], task_id, base, notes="bring the ladder",
           due_until=(NOW + timedelta(days=2)).isoformat())

    outcome = update(session_factory, people["dispatcher"], task_id, base, notes="bring the drone", priority=2,
                     due_until=(NOW + timedelta(days=2)).isoformat())

    assert outcome.applied == {"priority": 2}
    assert outcome.conflicts == {"notes": ("bring the ladder", "bring the drone")}  # the same due date: no conflict
    assert task_row(session_factory, task_id).notes == "bring the ladder"


def test_answers_from_two_devices_merge_item_by_item(session_factory: sessionmaker[Session],
                                                     people: dict[str, Actor]) -> None:
    task_id = started_task(session_factory, people, checklist_code="line_patrol")
    base = task_row(session_factory, task_id).version

    def answer(**answers: Any) -> MergeOutcome:
        return committed(session_factory, lambda db: service.save_answers(
            db=db, actor=people["inspector"], now=NOW, task_id=task_id, answers=answers, base_version=base,
            device_time=NOW - timedelta(hours=3)))

    first = answer(conductors_ok=True, poles_ok=True)
    second = answer(insulators_ok=False, poles_ok=False)

    assert set(first.applied) == {"answers.conductors_ok", "answers.poles_ok"}
    assert second.applied == {"answers.insulators_ok": False}
    assert second.conflicts == {"answers.poles_ok": (True, False)}
    answers = task_row(session_factory, task_id).answers
    assert {k: v["value"] for k, v in answers.items()} == {"conductors_ok": True, "poles_ok": True,
                                                           "insulators_ok": False}
    assert answers["insulators_ok"]["device_time"] == (NOW - timedelta(hours=3)).isoformat()


def test_the_merge_path_keeps_the_rules_of_who_may_change_what(session_factory: sessionmaker[Session],
                                                                people: dict[str, Actor]) -> None:
    task_id = started_task(session_factory, people)
    base = task_row(session_factory, task_id).version

    with pytest.raises(PermissionDenied):
        update(session_factory, people["inspector"], task_id, base, priority=1)
    with pytest.raises(PermissionDenied):
        committed(session_factory, lambda db: service.save_answers(
            db=db, actor=people["supervisor"], now=NOW, task_id=task_id, answers={"remarks": "x"}, base_version=base))
    assert task_row(session_factory, task_id).version == base


def test_a_task_created_again_with_the_same_uuid_is_the_first_one(session_factory: sessionmaker[Session]) -> None:
    device_uuid = uuid4()

    first = make_task(session_factory, uuid=device_uuid, task_type=TaskType.fault_visit)
    again = make_task(session_factory, uuid=device_uuid, task_type=TaskType.fault_visit)

    assert first == again
    with session_factory() as db:
        assert db.get(FieldTask, first).uuid == device_uuid  # type: ignore[union-attr]
