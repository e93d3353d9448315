"""Shared fixtures for the case workflow tests: a 10 kV overhead line to place requests near, the
people who handle cases (with a second user per role for separation of duties), and a `Desk` that
drives the /cases API the way the approval officers' console does.

Geometry: the line runs due east through Hefei with a 2 m conductor spread, so its 10 kV protection
zone (条例 §10: 5 m from the outermost conductor) reaches 1 + 5 = 6 m from the centre line. A site
3 m from the centre line is 2 m from the outermost conductor, inside the zone; a site 400 m away is
clear of every rule.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from cases.workflow import Action
from core.permissions import Role
from core.settings import Settings
from tests.conftest import Person, sign_in_people
from tests.factories import feature
from tests.gis.screening.conftest import EAST, HEFEI, LonLat, beside, geodesic_line, point, square

Auth = Callable[[Role], dict[str, str]]
REQUESTS = "/api/v1/cases"
ENCROACHMENTS = "/api/v1/cases/encroachments"
PROBLEM = "application/problem+json"
CONDUCTOR_SPREAD_M = 2.0
NEAR_OFFSET_M = 3.0  # from the centre line: 2 m from the outermost conductor, inside the 6 m zone
NEAR: LonLat = beside(HEFEI, EAST, NEAR_OFFSET_M)
FAR: LonLat = beside(HEFEI, EAST, 400.0)
EVERY_ACTION = tuple(Action)
# Tables `count_rows` may read (a table name cannot be a bound parameter).
_COUNTABLE = frozenset({"cases", "screenings", "case_events", "decision_documents", "serial_counters"})


@pytest.fixture
def network(client: TestClient, auth: Auth) -> dict[str, Any]:
    """The 10 kV overhead line every request is placed near, created by a dispatcher."""
    body = feature("lines", geometry=geodesic_line(HEFEI, EAST, 300.0), nominal_kv=10.0,
                   conductor_spread_m=CONDUCTOR_SPREAD_M)
    response = client.post("/api/v1/network/lines", json=body, headers=auth(Role.dispatcher))
    assert response.status_code == 201, response.text
    return dict(response.json())


# Users beyond the one-per-role `test-<role>` users: a second approver (with a full name, so that
# documents are signed by name), a second inspector, and an admin who holds every permission.
EXTRA_USERS = {
    "approver2": (Role.approver, "王审批"),
    "inspector2": (Role.inspector, ""),
    "admin2": (Role.admin, ""),
}


@pytest.fixture
def people(settings: Settings, session_factory: sessionmaker[Session], role_users: dict[Role, int]
           ) -> dict[str, Person]:
    """Everyone who handles cases in these tests, by short name: the `test-<role>` users under the
    role's name ("approver", "inspector", ...) and the extra users of `EXTRA_USERS`."""
    return sign_in_people(settings, session_factory, EXTRA_USERS)


def connection_body(at: LonLat = NEAR, *, load_kw: float | None = 10.0, voltage_kv: float = 0.4,
                    **changes: Any) -> dict[str, Any]:
    """A new-connection request for premises at `at`; keyword arguments change or add fields."""
    body: dict[str, Any] = {
        "kind": "connection", "request_type": "new_connection", "applicant_name": "张三",
        "applicant_phone": "13800138000", "applicant_id_number": "110101199003071234",
        "site_address": "合肥市幸福路 1 号", "location": point(at), "requested_load_kw": load_kw,
        "voltage_kv": voltage_kv,
    }
    body.update(changes)
    return body


def construction_body(at: LonLat = NEAR, *, activities: list[dict[str, Any]] | None = None,
                      **changes: Any) -> dict[str, Any]:
    """A construction permit for a building on a 20 m square plot around `at` (unless changed)."""
    body: dict[str, Any] = {
        "kind": "construction", "request_type": "construction_permit", "applicant_name": "合肥建工",
        "site_address": "合肥市幸福路 3 号", "location": point(at), "footprint": square(at, 1.0),
        "voltage_kv": 10.0,
        "activities": activities if activities is not None else [
            {"activity": "building", "parameters": {"height_m": 12.0}}],
    }
    body.update(changes)
    return body


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """An RFC 9457 problem body with the given status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def count_rows(engine: Engine, table: str) -> int:
    """Rows in a table, read as the schema owner (bypasses the API)."""
    if table not in _COUNTABLE:
        raise ValueError(f"count_rows does not know table {table!r}")
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())


def pdf_text(pdf: bytes) -> str:
    """The PDF's text without whitespace, so that a phrase wrapped over two lines still matches."""
    return re.sub(r"\s+", "", "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


@dataclass
class Desk:
    """The approval console: registers cases and moves them on through the API, always sending the
    version last read as If-Match (as a real client must)."""

    client: TestClient
    people: dict[str, Person]

    def register_response(self, body: dict[str, Any], *, by: str = "approver", key: str | None = None) -> Any:
        headers = dict(self.people[by].headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(REQUESTS, json=body, headers=headers)

    def register(self, body: dict[str, Any], *, by: str = "approver") -> dict[str, Any]:
        """A registration that must be accepted; returns the case."""
        response = self.register_response(body, by=by)
        assert response.status_code == 201, response.text
        assert response.headers["etag"] == f'"{response.json()["version"]}"'
        return dict(response.json())

    def report(self, at: LonLat = NEAR, *, by: str = "inspector", **changes: Any) -> dict[str, Any]:
        """An encroachment found by a patrol: a 4 m shed being built at `at`."""
        body = {"location": point(at), "description": "保护区内新建彩钢棚", "site_address": "合肥市幸福路 5 号",
                "responsible_party": "李四", **changes}
        response = self.client.post(ENCROACHMENTS, json=body, headers=self.people[by].headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def get(self, case: dict[str, Any] | int, *, by: str = "approver") -> dict[str, Any]:
        case_id = case if isinstance(case, int) else case["id"]
        response = self.client.get(f"{REQUESTS}/{case_id}", headers=self.people[by].headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def act_response(self, case: dict[str, Any], action: str, *, by: str, version: int | None = None,
                     if_match: bool = True, **body: Any) -> Any:
        headers = dict(self.people[by].headers)
        if if_match:
            headers["If-Match"] = f'"{case["version"] if version is None else version}"'
        return self.client.post(f"{REQUESTS}/{case['id']}/actions/{action}", json=body, headers=headers)

    def act(self, case: dict[str, Any], action: str, *, by: str, **body: Any) -> dict[str, Any]:
        """An action that must succeed; returns the case as it now is."""
        response = self.act_response(case, action, by=by, **body)
        assert response.status_code == 200, response.text
        after = dict(response.json())
        assert after["version"] == case["version"] + 1
        assert response.headers["etag"] == f'"{after["version"]}"'
        return after

    def hand_over_response(self, case: dict[str, Any], to_user_id: int, *, by: str,
                           reason: str = "调岗交接") -> Any:
        return self.client.post(f"{REQUESTS}/{case['id']}/hand-over", json={"to_user_id": to_user_id,
                                                                              "reason": reason},
                                headers={**self.people[by].headers, "If-Match": f'"{case["version"]}"'})

    # The steps every path shares, each taken by the person whose job it is.
    def surveyed(self, case: dict[str, Any], *, hazard: bool, surveyor: str = "inspector",
                 assigner: str = "approver") -> dict[str, Any]:
        case = self.act(case, "assign_survey", by=assigner, assignee_id=self.people[surveyor].id)
        findings = "现场有违章搭建，存在隐患" if hazard else "房屋位于线路保护区内，无隐患"
        return self.act(case, "record_survey", by=surveyor, findings=findings, hazard_found=hazard)

    def reinspected(self, case: dict[str, Any], *, passed: bool, inspector: str = "inspector",
                    assigner: str = "approver") -> dict[str, Any]:
        case = self.act(case, "report_rectification", by=assigner, note="客户报告已整改")
        case = self.act(case, "assign_reinspection", by=assigner, assignee_id=self.people[inspector].id)
        findings = "已拆除违章搭建" if passed else "整改不到位"
        return self.act(case, "record_reinspection", by=inspector, findings=findings, passed=passed)

    def audit(self, case: dict[str, Any], *, contact_views: bool = False) -> list[dict[str, Any]]:
        """The case's audit records, oldest first: its actions, or (`contact_views`) only the
        records of who viewed the applicant's contact data."""
        response = self.client.get("/api/v1/audit", params={"entity_type": "case", "entity_id": case["id"],
                                                             "limit": 200}, headers=self.people["admin"].headers)
        assert response.status_code == 200, response.text
        return [r for r in reversed(response.json()["items"]) if (r["action"] == "case.contact_view") == contact_views]

    def document(self, case: dict[str, Any], index: int = -1, *, by: str = "approver") -> tuple[dict[str, Any], bytes]:
        """A decision document of `case` (the latest by default): its listing entry and its PDF bytes."""
        entry = self.get(case, by=by)["documents"][index]
        response = self.client.get(entry["href"], headers=self.people[by].headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        return entry, response.content


@pytest.fixture
def desk(client: TestClient, people: dict[str, Person], network: dict[str, Any]) -> Desk:
    """The console, with the line in place that requests are placed near."""
    return Desk(client, people)


# --- cases at chosen moments: the API's clock set by the test ------------------------------------------


def moment(value: str | None) -> datetime | None:
    """A timestamp of the API (ISO 8601 with offset) as an aware datetime."""
    return None if value is None else datetime.fromisoformat(value)


@dataclass
class Clock:
    """Registers, moves and reads cases through the API at chosen moments: before each request it
    sets the app's clock (`app.state.clock`, read by `api.dependencies.Now`), so the deadline, the
    remaining time and the case number are the ones the API computes for that moment."""

    app: FastAPI
    desk: Desk

    def set(self, now: datetime) -> None:
        self.app.state.clock = lambda: now

    def register(self, body: dict[str, Any], *, now: datetime) -> tuple[int, datetime | None]:
        """(case id, deadline) of a case registered by the approver at `now`."""
        self.set(now)
        case = self.desk.register(body)
        return case["id"], moment(case["deadline_at"])

    def act(self, case_id: int, action: Action, *, by: str, now: datetime, **body: Any) -> tuple[str, datetime | None]:
        """(state, deadline) after `action` taken by `by` at `now`."""
        self.set(now)
        after = self.desk.act(self.desk.get(case_id), action.value, by=by, **body)
        return after["state"], moment(after["deadline_at"])

    def remaining(self, case_id: int, *, now: datetime) -> tuple[int, bool]:
        """(working days left, overdue) of the case as the API shows it at `now`."""
        self.set(now)
        left = self.desk.get(case_id)["remaining"]
        assert left is not None
        return left["working_days"], left["overdue"]

    def number(self, case_id: int) -> str:
        return str(self.desk.get(case_id)["number"])

    def surveyed(self, case_id: int, *, now: datetime, hazard: bool = False) -> tuple[str, datetime | None]:
        self.act(case_id, Action.assign_survey, by="approver", now=now, assignee_id=self.desk.people["inspector"].id)
        return self.act(case_id, Action.record_survey, by="inspector", now=now, findings="现场查勘",
                        hazard_found=hazard)


@pytest.fixture
def clock(app: FastAPI, desk: Desk) -> Iterator[Clock]:
    """The API at moments the test chooses; the real clock again afterwards."""
    real = app.state.clock
    try:
        yield Clock(app, desk)
    finally:
        app.state.clock = real
