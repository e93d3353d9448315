"""Pull: the first pull is a snapshot of exactly the inspector's scope (their tasks, the checklists they
use, and the network, zones and customers near those tasks); later pulls send only what changed,
including what left the scope as deletions; a lost page is sent again with the same cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.permissions import Role
from inspections.models import ChecklistTemplate, ChecklistVersion, FieldTask
from tests import factories
from tests.inspections.sync.conftest import DeviceLogin

Auth = Callable[[Role], dict[str, str]]
LON, LAT = factories.BASE_LON, factories.BASE_LAT
# About 5.5 km east: far outside the pull radius (500 m) of a task at (LON, LAT).
FAR_LON = LON + 0.06
PULL = "/api/v1/sync/pull"


def _task(db: Session, *, assignee_id: int, lon: float, lat: float, checklist_version_id: int | None = None,
          state: str = "assigned", title: str = "Patrol") -> int:
    now = datetime.now(UTC)
    task = FieldTask(task_type="line_patrol", state=state, title=title, location=f"SRID=4326;POINT({lon} {lat})",
                     due_from=now, due_until=now + timedelta(days=3), assignee_id=assignee_id,
                     checklist_version_id=checklist_version_id)
    db.add(task)
    db.flush()
    return task.id


def _db_id(engine: Engine, table: str, feature: dict[str, Any]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT id FROM {table} WHERE external_id = :e"),
                                {"e": feature["properties"]["external_id"]}).scalar_one())


class Field:
    """One inspector's world: two tasks of theirs (near the base point and near a point 1.5 km north),
    one of another user's, a line, a pole and a customer near the first task, a pole near the second,
    and a customer and a substation far from every task of theirs."""

    def __init__(self, client: TestClient, auth: Auth, engine: Engine, factory: sessionmaker[Session],
                 users: dict[Role, int]) -> None:
        writer = auth(Role.dispatcher)
        with factory() as db, db.begin():
            template = ChecklistTemplate(code="patrol-10kv", name="10 kV patrol", task_type="line_patrol")
            db.add(template)
            db.flush()
            version = ChecklistVersion(template_id=template.id, version=1, created_by="test",
                                       items=[{"key": "tower_ok", "label": "Tower sound", "answer_type": "yes_no",
                                               "required": True}])
            db.add(version)
            db.flush()
            self.checklist_version = version.id
            self.task_near = _task(db, assignee_id=users[Role.inspector], lon=LON, lat=LAT,
                                   checklist_version_id=version.id)
            self.task_north = _task(db, assignee_id=users[Role.inspector], lon=LON, lat=LAT + 0.0135)
            self.task_of_other = _task(db, assignee_id=users[Role.dispatcher], lon=FAR_LON, lat=LAT)
            self.task_closed_long_ago = _task(db, assignee_id=users[Role.inspector], lon=LON, lat=LAT, state="closed")
            db.execute(text("UPDATE field_tasks SET updated_at = now() - interval '30 days' WHERE id = :id"),
                       {"id": self.task_closed_long_ago})
        line = factories.created(client, writer, "lines", geometry=factories.linestring(
            (LON - 0.002, LAT), (LON + 0.002, LAT + 0.0005)))
        pole = factories.created(client, writer, "poles", geometry=factories.point(LON + 0.001, LAT + 0.001))
        pole_north = factories.created(client, writer, "poles", geometry=factories.point(LON, LAT + 0.0140))
        customer = factories.created(client, writer, "customers", geometry=factories.point(LON + 0.002, LAT),
                                     contact_phone="+86 138 0013 8000")
        far_customer = factories.created(client, writer, "customers", geometry=factories.point(FAR_LON, LAT))
        far_substation = factories.created(client, writer, "substations", geometry=factories.point(FAR_LON, LAT))
        self.line, self.pole = _db_id(engine, "lines", line), _db_id(engine, "poles", pole)
        self.pole_north = _db_id(engine, "poles", pole_north)
        self.customer, self.far_customer = _db_id(engine, "customers", customer), _db_id(engine, "customers",
                                                                                         far_customer)
        self.far_substation = _db_id(engine, "substations", far_substation)
        self.line_feature, self.pole_feature = line, pole
        with engine.connect() as conn:
            self.zones = set(conn.execute(text("SELECT id FROM line_zones WHERE line_id = :l"), {"l": self.line})
                             .scalars())
        assert self.zones, "a 10 kV line has a derived protection zone"

    def scope(self) -> set[tuple[str, int]]:
        return {("task", self.task_near), ("task", self.task_north), ("checklist_version", self.checklist_version),
                ("line", self.line), ("pole", self.pole), ("pole", self.pole_north), ("customer", self.customer),
                *(("derived_zone", z) for z in self.zones)}


@pytest.fixture
def field(client: TestClient, auth: Auth, owner_engine: Engine, session_factory: sessionmaker[Session],
          role_users: dict[Role, int]) -> Field:
    return Field(client, auth, owner_engine, session_factory, role_users)


def pull_all(client: TestClient, headers: dict[str, str], cursor: str | None = None,
             limit: int | None = None) -> tuple[list[dict[str, Any]], str]:
    """Follow pages until there are no more; every item and the cursor to keep for the next pull."""
    items: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {k: v for k, v in (("cursor", cursor), ("limit", limit)) if v is not None}
        response = client.get(PULL, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return items, cursor


def keys(items: list[dict[str, Any]], op: str = "upsert") -> set[tuple[str, int]]:
    return {(i["entity_type"], i["id"]) for i in items if i["op"] == op}


def test_the_first_pull_is_a_snapshot_of_exactly_the_inspectors_scope(client: TestClient, field: Field,
                                                                       device_token: DeviceLogin) -> None:
    items, _ = pull_all(client, device_token())
    assert keys(items) == field.scope()
    assert keys(items, "delete") == set()
    assert len(items) == len(field.scope())  # nothing twice
    task = next(i for i in items if i["entity_type"] == "task" and i["id"] == field.task_near)
    assert task["data"]["state"] == "assigned" and task["data"]["checklist_version_id"] == field.checklist_version
    assert task["data"]["geometry"] == {"type": "Point", "coordinates": [LON, LAT]}
    checklist = next(i for i in items if i["entity_type"] == "checklist_version")
    assert checklist["data"]["template_name"] == "10 kV patrol" and checklist["data"]["items"][0]["key"] == "tower_ok"
    # Tasks come first, then their checklists, then the map.
    assert [i["entity_type"] for i in items[:3]] == ["task", "task", "checklist_version"]


def test_customers_are_shown_as_the_customers_layer_shows_them_to_the_role(client: TestClient, field: Field,
                                                                           device_token: DeviceLogin, auth: Auth,
                                                                           owner_engine: Engine) -> None:
    items, _ = pull_all(client, device_token())
    pulled = next(i for i in items if i["entity_type"] == "customer")
    layer = client.get(f"/api/v1/customers/{field.customer}", headers=auth(Role.inspector)).json()
    assert pulled["data"]["properties"]["contact_phone"] == layer["properties"]["contact_phone"]
    assert {k: pulled["data"]["properties"][k] for k in ("account_number", "name")} == {
        k: layer["properties"][k] for k in ("account_number", "name")}
    with owner_engine.connect() as conn:
        disclosed = conn.execute(text("SELECT after FROM audit_log WHERE action = 'customer.contact_view' "
                                      "AND actor_role = 'inspector' ORDER BY id")).scalars().all()
    # Inspectors may see contact numbers (to call ahead); every disclosure is logged, the pull's too.
    assert disclosed and all(d["account_numbers"] == [layer["properties"]["account_number"]] for d in disclosed)


def test_an_inspector_never_receives_what_lies_near_only_other_peoples_tasks(client: TestClient, field: Field,
                                                                             device_token: DeviceLogin) -> None:
    items, _ = pull_all(client, device_token())
    received = keys(items)
    assert ("customer", field.far_customer) not in received
    assert ("substation", field.far_substation) not in received
    assert ("task", field.task_of_other) not in received
    assert ("task", field.task_closed_long_ago) not in received


def test_the_second_pull_returns_only_what_changed(client: TestClient, field: Field, device_token: DeviceLogin,
                                                   auth: Auth) -> None:
    headers = device_token()
    _, cursor = pull_all(client, headers)
    nothing, cursor = pull_all(client, headers, cursor)
    assert nothing == []

    moved = client.patch(f"/api/v1/network/poles/{field.pole}", json={"properties": {"kind": "tower"}},
                         headers={**auth(Role.dispatcher), "If-Match": '"1"'})
    assert moved.status_code == 200, moved.text
    changed, cursor = pull_all(client, headers, cursor)
    assert [(i["op"], i["entity_type"], i["id"], i["version"]) for i in changed] == [
        ("upsert", "pole", field.pole, "2")]
    assert changed[0]["data"]["properties"]["kind"] == "tower"
    assert pull_all(client, headers, cursor)[0] == []


def test_a_task_reassigned_away_its_surroundings_and_a_soft_deleted_line_come_back_as_deletions(
        client: TestClient, field: Field, device_token: DeviceLogin, auth: Auth, owner_engine: Engine,
        role_users: dict[Role, int]) -> None:
    headers = device_token()
    _, cursor = pull_all(client, headers)
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE field_tasks SET assignee_id = :other, version = version + 1 WHERE id = :id"),
                     {"other": role_users[Role.dispatcher], "id": field.task_north})
    deleted = client.delete(f"/api/v1/network/lines/{field.line}",
                            headers={**auth(Role.dispatcher), "If-Match": '"1"'})
    assert deleted.status_code == 204, deleted.text
    changed, _ = pull_all(client, headers, cursor)
    # The pole near only the re-assigned task is no longer near any of theirs: it leaves too.
    assert keys(changed, "delete") == {("task", field.task_north), ("pole", field.pole_north), ("line", field.line),
                                       *(("derived_zone", z) for z in field.zones)}
    assert keys(changed) == set()


def test_a_lost_page_is_sent_again_with_the_same_cursor(client: TestClient, field: Field,
                                                        device_token: DeviceLogin, auth: Auth) -> None:
    headers = device_token()
    first = client.get(PULL, headers=headers, params={"limit": 2}).json()
    second = client.get(PULL, headers=headers, params={"limit": 2, "cursor": first["cursor"]}).json()
    # The answer to `second` was lost: the device asks again with the cursor it had.
    again = client.get(PULL, headers=headers, params={"limit": 2, "cursor": first["cursor"]}).json()
    assert again == second
    rest, last_cursor = pull_all(client, headers, second["cursor"], limit=2)
    received = first["items"] + second["items"] + rest
    assert len(received) == len(field.scope()) and keys(received) == field.scope()

    # The answer that opened the next pull is lost too: the same cursor opens it again.
    client.patch(f"/api/v1/network/poles/{field.pole}", json={"properties": {"kind": "tower"}},
                 headers={**auth(Role.dispatcher), "If-Match": '"1"'})
    opened = client.get(PULL, headers=headers, params={"cursor": last_cursor}).json()
    reopened = client.get(PULL, headers=headers, params={"cursor": last_cursor}).json()
    assert opened == reopened and keys(opened["items"]) == {("pole", field.pole)}


def test_a_cursor_of_another_device_or_a_tampered_one_is_refused(client: TestClient, field: Field,
                                                                  device_token: DeviceLogin) -> None:
    mine = client.get(PULL, headers=device_token(device="phone-1")).json()["cursor"]
    other = device_token(device="phone-2")
    assert client.get(PULL, headers=other, params={"cursor": mine}).status_code == 422
    assert client.get(PULL, headers=other, params={"cursor": "bm90LWEtY3Vyc29y"}).status_code == 422
    assert client.get(PULL, headers=other, params={"limit": 1_000_000}).status_code == 422


def test_a_device_pulling_again_without_a_cursor_gets_the_whole_snapshot(client: TestClient, field: Field,
                                                                         device_token: DeviceLogin) -> None:
    headers = device_token()
    pull_all(client, headers)
    items, _ = pull_all(client, headers)
    assert keys(items) == field.scope() and len(items) == len(field.scope())
