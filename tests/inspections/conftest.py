"""Fixtures for field work: the people who plan, do, review and audit tasks (with a second
inspector and supervisor for "someone else"), the API's clock set to a chosen morning, and a
`Field` that drives the /tasks API the way the console and the app do.

Helpers other parts reuse: `task_body(...)` (a valid POST /tasks body), `make_task(...)` (a task
through the service, committed), `qualify(...)` (give a user a certificate).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.permissions import Role
from core.settings import Settings
from core.users import service as user_service
from core.users.schemas import QualificationIn
from inspections import service
from inspections.specs import TaskSpec
from inspections.workflow import TaskType
from tests.conftest import Person, sign_in_people
from tests.gis.screening.conftest import HEFEI, LonLat
from tests.gis.screening.conftest import point as screening_point

TASKS = "/api/v1/tasks"
PROBLEM = "application/problem+json"
# The API's clock in these tests: 09:00 in Hefei on 1 December 2026.
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
EXTRA_USERS = {"inspector2": (Role.inspector, ""), "supervisor2": (Role.supervisor, "")}


@pytest.fixture
def crew(settings: Settings, session_factory: sessionmaker[Session], role_users: dict[Role, int]
         ) -> dict[str, Person]:
    """Everyone by short name: "dispatcher", "inspector"... (the `test-<role>` users) and the extra
    "inspector2" and "supervisor2"."""
    return sign_in_people(settings, session_factory, EXTRA_USERS)


@pytest.fixture(autouse=True)
def field_reference_data(owner_engine: Engine) -> None:
    """Certificates and checklist templates are kept between tests by the suite's reset (users and
    reference data); each field-work test starts with no certificates and only the seeded checklists."""
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM user_qualifications"))
        conn.execute(text("DELETE FROM checklist_versions WHERE created_by NOT LIKE 'migration %'"))
        conn.execute(text("DELETE FROM checklist_templates t WHERE NOT EXISTS "
                          "(SELECT 1 FROM checklist_versions v WHERE v.template_id = t.id)"))


def point(at: LonLat = HEFEI) -> dict[str, Any]:
    return screening_point(at)


def task_body(**changes: Any) -> dict[str, Any]:
    """A valid POST /tasks body: a line patrol at Hefei in the week after NOW; keywords change it."""
    body: dict[str, Any] = {"task_type": "line_patrol", "title": "Patrol feeder 12", "location": point(),
                            "due_from": NOW.isoformat(), "due_until": (NOW + timedelta(days=7)).isoformat(),
                            "priority": 3}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def make_task(session_factory: sessionmaker[Session], *, actor: Actor | None = None, now: datetime = NOW,
              **changes: Any) -> int:
    """A task created through `inspections.service.create_task` and committed; its id. Keywords
    change the `TaskSpec` (default: a line patrol at Hefei due within a week of `now`)."""
    fields: dict[str, Any] = {"task_type": TaskType.line_patrol, "title": "Patrol", "due_from": now,
                              "due_until": now + timedelta(days=7), "location_wkt": f"POINT({HEFEI[0]} {HEFEI[1]})"}
    fields.update(changes)
    with session_factory() as db, db.begin():
        task = service.create_task(db=db, actor=actor or Actor.system("tests"), now=now, spec=TaskSpec(**fields))
        return task.id


def qualify(session_factory: sessionmaker[Session], user_id: int, certificate_type: str, *, max_voltage_kv: float,
            valid_until: date) -> None:
    """Give a user a certificate (as an administrator would)."""
    with session_factory() as db, db.begin():
        user_service.add_qualification(db=db, actor=Actor.system("tests"), user_id=user_id,
                                       qualification=QualificationIn(certificate_type=certificate_type,
                                                                     max_voltage_kv=max_voltage_kv,
                                                                     valid_until=valid_until))


def problem(response: Response, status: int) -> dict[str, Any]:
    """The problem+json body of a request refused with `status`."""
    assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), response.text
    body: dict[str, Any] = response.json()
    return body


def if_match(task: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{task["version"]}"'}


@dataclass
class Field:
    """The /tasks API as the console and the app use it, each call made by a named person."""

    client: TestClient
    crew: dict[str, Person]

    def headers(self, by: str, **extra: str) -> dict[str, str]:
        return {**self.crew[by].headers, **extra}

    def create(self, by: str = "dispatcher", **changes: Any) -> dict[str, Any]:
        response = self.client.post(TASKS, json=task_body(**changes), headers=self.headers(by))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def get(self, task_id: int, by: str = "dispatcher") -> dict[str, Any]:
        response = self.client.get(f"{TASKS}/{task_id}", headers=self.headers(by))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def try_act(self, task: dict[str, Any], action: str, by: str, **body: Any) -> Response:
        return self.client.post(f"{TASKS}/{task['id']}/actions", json={"action": action, **body},
                                headers=self.headers(by, **if_match(task)))

    def act(self, task: dict[str, Any], action: str, by: str, **body: Any) -> dict[str, Any]:
        response = self.try_act(task, action, by, **body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def try_answer(self, task: dict[str, Any], by: str = "inspector", **answers: Any) -> Response:
        return self.client.put(f"{TASKS}/{task['id']}/answers", json={"answers": answers},
                               headers=self.headers(by, **if_match(task)))

    def answer(self, task: dict[str, Any], by: str = "inspector", **answers: Any) -> dict[str, Any]:
        response = self.try_answer(task, by, **answers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def try_report(self, task: dict[str, Any], by: str = "inspector", **finding: Any) -> Response:
        body = {"uuid": str(uuid4()), "severity": "minor", "category": "signage_missing", **finding}
        return self.client.post(f"{TASKS}/{task['id']}/findings", json=body, headers=self.headers(by))

    def started(self, by_inspector: str = "inspector", **changes: Any) -> dict[str, Any]:
        """A task assigned to, accepted and started by `by_inspector`."""
        task = self.create(**changes)
        task = self.act(task, "assign", "dispatcher", assignee_id=self.crew[by_inspector].id)
        task = self.act(task, "accept", by_inspector)
        return self.act(task, "start", by_inspector)


@pytest.fixture
def field(app: FastAPI, client: TestClient, crew: dict[str, Person]) -> Iterator[Field]:
    """The API at NOW (its clock set), with the crew; the real clock again afterwards."""
    real = app.state.clock
    app.state.clock = lambda: NOW
    try:
        yield Field(client, crew)
    finally:
        app.state.clock = real
