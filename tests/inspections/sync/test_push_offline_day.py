"""A simulated day offline: two devices of one inspector and a dispatcher edit the same task while
the devices are out of reach, then the devices push, in either order, and push everything again.
Different fields merge; the same field becomes a conflict with both values kept; replays change
nothing; the final task is checked field by field and no record is lost or duplicated."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.permissions import Role
from tests.inspections.conftest import NOW, TASKS, Field, if_match
from tests.inspections.sync.conftest import CONFLICTS, Device, DeviceLogin, count_rows, item

SIGNAGE = {"severity": "minor", "category": "signage_missing", "description": "Pole 14 number plate missing"}


def devices(client: TestClient, device_token: DeviceLogin) -> tuple[Device, Device]:
    """The inspector's phone and tablet, both with the day's work pulled at the same version."""
    return (Device(client, device_token(Role.inspector, "phone-1"), clock=NOW),
            Device(client, device_token(Role.inspector, "tablet-2"), clock=NOW))


def the_day(field: Field, task: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """While the devices are offline the dispatcher moves the task up and leaves a note; the phone
    answers two items, writes its own note and reports a finding; the tablet answers one of the same
    items differently and one other item. Returns (phone's items, tablet's items)."""
    patched = field.client.patch(f"{TASKS}/{task['id']}", json={"notes": "Bring the drone", "priority": 1},
                                 headers=field.headers("dispatcher", **if_match(task)))
    assert patched.status_code == 200, patched.text
    base, of_task = task["version"], {"task_uuid": task["uuid"]}
    phone = [item("answers", {**of_task, "answers": {"conductors_ok": True, "insulators_ok": True}}, base_version=base),
             item("task_update", {**of_task, "changes": {"notes": "Pole 14 leaning"}}, base_version=base),
             item("finding", {**of_task, **SIGNAGE})]
    tablet = [item("answers", {**of_task, "answers": {"insulators_ok": False, "poles_walked": 42}}, base_version=base)]
    return phone, tablet


@pytest.mark.parametrize("phone_first", [True, False], ids=["phone pushes first", "tablet pushes first"])
def test_two_devices_and_a_dispatcher_edit_one_task_offline_and_every_change_is_merged_or_kept(
        field: Field, client: TestClient, device_token: DeviceLogin, owner_engine: Engine, phone_first: bool) -> None:
    task = field.started(checklist_code="line_patrol")
    phone, tablet = devices(client, device_token)
    phone_items, tablet_items = the_day(field, task)

    order = [(phone, phone_items), (tablet, tablet_items)]
    if not phone_first:
        order.reverse()
    first = {id(d): d.push(items) for d, items in order}
    replays = {id(d): d.push(items) for d, items in reversed(order)} | {id(d): d.push(items) for d, items in order}

    phone_results, tablet_results = first[id(phone)], first[id(tablet)]
    # The phone's note met the dispatcher's: a conflict, whoever pushed first. The answers: whoever
    # pushed first set insulators_ok, the other device's different answer is the conflict.
    assert [r["status"] for r in phone_results] == (["merged", "conflict", "applied"] if phone_first
                                                     else ["conflict", "conflict", "applied"])
    assert tablet_results[0]["status"] == ("conflict" if phone_first else "merged")
    assert tablet_results[0]["applied"] == (["answers.poles_walked"] if phone_first
                                            else ["answers.insulators_ok", "answers.poles_walked"])
    for device_results, replayed in ((phone_results, replays[id(phone)]), (tablet_results, replays[id(tablet)])):
        assert [r["status"] for r in replayed] == ["duplicate"] * len(device_results)
        assert [r["original"] for r in replayed] == device_results

    final = field.get(task["id"])
    assert (final["notes"], final["priority"], final["title"]) == ("Bring the drone", 1, "Patrol feeder 12")
    assert {key: answer["value"] for key, answer in final["answers"].items()} == {
        "conductors_ok": True, "insulators_ok": phone_first, "poles_walked": 42}
    assert [(f["category"], f["description"]) for f in final["findings"]] == [("signage_missing",
                                                                                "Pole 14 number plate missing")]
    kept = client.get(CONFLICTS, headers=field.headers("dispatcher")).json()["items"]
    assert sorted((c["field"], c["server_value"], c["device_value"]) for c in kept) == [
        ("answers.insulators_ok", phone_first, not phone_first), ("notes", "Bring the drone", "Pole 14 leaning")]
    assert count_rows(owner_engine, "sync_mutations") == 4
    assert count_rows(owner_engine, "findings") == 1
    assert count_rows(owner_engine, "field_tasks") == 1
    assert count_rows(owner_engine, "sync_conflicts") == 2
    assert count_rows(owner_engine, "outbox_events", "WHERE event_type = 'sync_conflict.opened'") == 2


def test_a_dispatcher_resolves_each_conflict_through_the_task_service_and_it_is_audited(
        field: Field, client: TestClient, device_token: DeviceLogin, owner_engine: Engine) -> None:
    task = field.started(checklist_code="line_patrol")
    phone, tablet = devices(client, device_token)
    phone_items, tablet_items = the_day(field, task)
    phone.push(phone_items)
    tablet.push(tablet_items)
    conflicts = {c["field"]: c for c in client.get(CONFLICTS, headers=field.headers("dispatcher")).json()["items"]}

    def resolve(conflict: dict[str, Any], by: str, **body: Any) -> Any:
        return client.post(f"{CONFLICTS}/{conflict['id']}/resolve", json=body, headers=field.headers(by))

    assert resolve(conflicts["notes"], "inspector", keep="device").status_code == 403
    notes = resolve(conflicts["notes"], "dispatcher", keep="device")
    invented = resolve(conflicts["answers.insulators_ok"], "dispatcher", keep="value", value=False)
    answer = resolve(conflicts["answers.insulators_ok"], "supervisor", keep="device")
    again = resolve(conflicts["notes"], "dispatcher", keep="server")

    assert notes.status_code == 200 and notes.json()["state"] == "resolved", notes.text
    assert invented.status_code == 403 and "inspector's record" in invented.json()["detail"]
    assert answer.status_code == 200, answer.text
    assert again.status_code == 409
    final = field.get(task["id"])
    assert final["notes"] == "Pole 14 leaning"
    assert final["answers"]["insulators_ok"]["value"] is False
    assert final["answers"]["insulators_ok"]["by"] == "test-inspector"
    assert client.get(CONFLICTS, headers=field.headers("dispatcher")).json()["items"] == []
    assert count_rows(owner_engine, "audit_log", "WHERE action = 'sync_conflict.resolve'") == 2
