"""The push protocol itself, with encroachment reports (a kind that needs no task): every item has
its own result, a replay returns the original result, a reused uuid with other content is refused
for that item only, bad items never sink the batch, and device clocks are checked."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.inspections.sync.conftest import (
    DEVICES,
    MUTATIONS,
    PUSH,
    Device,
    DeviceLogin,
    count_rows,
    encroachment,
    item,
)


def test_an_encroachment_report_pushed_twice_is_one_case_and_the_replay_returns_the_original_result(
        device: Device, owner_engine: Engine) -> None:
    report = encroachment()

    first = device.push([report])[0]
    again = device.push([report])[0]

    assert first["status"] == "applied" and first["entity_type"] == "case"
    assert again["status"] == "duplicate"
    assert again["original"] == first
    assert count_rows(owner_engine, "cases") == 1
    assert count_rows(owner_engine, "sync_mutations") == 1


def test_a_uuid_reused_with_other_content_is_rejected_for_that_item_only_and_the_original_stays(
        device: Device, owner_engine: Engine) -> None:
    shared = uuid.uuid4()
    device.push([encroachment("first report", uid=shared)])

    results = device.push([encroachment("someone else's report", uid=shared), encroachment("a new report")])

    assert results[0]["status"] == "rejected"
    assert "uuid reused with different content" in results[0]["problem"]["detail"]
    assert results[1]["status"] == "applied"
    with owner_engine.connect() as conn:
        descriptions = sorted(conn.execute(text("SELECT description FROM cases")).scalars())
    assert descriptions == ["a new report", "first report"]


def test_a_bad_item_is_rejected_with_its_reason_and_the_rest_of_the_batch_applies(
        device: Device, owner_engine: Engine) -> None:
    no_description = item("encroachment_report", {"location": {"type": "Point", "coordinates": [117.2, 31.8]}})
    unknown = item("teleport", {"to": "Mars"})

    results = device.push([encroachment("before"), no_description, unknown, encroachment("after")])

    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert results[1]["problem"]["status"] == 422
    assert {"field": "data.description", "message": "Field required"} in results[1]["problem"]["errors"]
    assert "Unknown kind 'teleport'" in results[2]["problem"]["detail"]
    assert count_rows(owner_engine, "cases") == 2
    # Rejections are recorded too: the device's retry is answered with the same rejection.
    assert device.push([unknown])[0]["original"]["status"] == "rejected"
    assert count_rows(owner_engine, "sync_mutations") == 4


def test_the_same_uuid_twice_in_one_batch_is_applied_once(device: Device, owner_engine: Engine) -> None:
    report = encroachment()

    results = device.push([report, report])

    assert [r["status"] for r in results] == ["applied", "duplicate"]
    assert count_rows(owner_engine, "cases") == 1


def test_a_batch_sent_twice_at_the_same_moment_is_applied_once_and_the_other_answer_is_the_duplicate(
        device: Device, owner_engine: Engine) -> None:
    batch = [encroachment("double tap"), encroachment("second report")]
    start = threading.Barrier(2)

    def send() -> list[str]:
        start.wait(timeout=10)
        return [r["status"] for r in device.push(batch)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = sorted(pool.map(lambda _: send(), range(2)))

    assert answers == [["applied", "applied"], ["duplicate", "duplicate"]]
    assert count_rows(owner_engine, "cases") == 2
    assert count_rows(owner_engine, "sync_mutations") == 2


def test_a_batch_over_the_size_limit_is_refused_whole_with_413_and_nothing_is_written(
        device: Device, owner_engine: Engine) -> None:
    response = device.push_response([encroachment(f"report {n}") for n in range(501)])

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "at most 500 items" in response.json()["detail"]
    assert count_rows(owner_engine, "sync_mutations") == 0
    assert count_rows(owner_engine, "cases") == 0


def test_a_device_clock_far_off_is_flagged_and_both_times_are_kept(device: Device, owner_engine: Engine) -> None:
    wrong_clock = datetime.now(UTC) + timedelta(hours=2)

    result = device.push([encroachment()], device_time=wrong_clock)[0]
    in_time = device.push([encroachment()])[0]

    assert result["clock_skew_flagged"] is True
    assert 7100 < result["clock_skew_s"] < 7300
    assert in_time["clock_skew_flagged"] is False
    with owner_engine.connect() as conn:
        skews = sorted(conn.execute(text("SELECT skew_s FROM sync_mutations WHERE server_time IS NOT NULL")).scalars())
    assert abs(skews[0]) < 60 and 7100 < skews[1] < 7300


def test_a_device_reads_back_its_own_mutation_results_and_nobody_elses(
        device: Device, client: TestClient, auth: Callable[[Role], dict[str, str]], owner_engine: Engine) -> None:
    mine = encroachment()
    device.push([mine])
    with owner_engine.begin() as conn:  # the same uuid recorded for another user cannot be read
        conn.execute(text("UPDATE sync_mutations SET user_id = (SELECT id FROM users WHERE username = 'test-admin')"))
    other = encroachment()
    device.push([other])

    response = client.get(MUTATIONS, params={"uuids": [mine["uuid"], other["uuid"]]}, headers=device.headers)

    assert response.status_code == 200, response.text
    assert [r["uuid"] for r in response.json()["items"]] == [other["uuid"]]


def test_only_an_inspector_pushes_and_only_from_a_registered_device(
        client: TestClient, auth: Callable[[Role], dict[str, str]], device_token: DeviceLogin,
        owner_engine: Engine) -> None:
    batch = {"device_time": datetime.now(UTC).isoformat(), "items": [encroachment()]}
    for role in (Role.dispatcher, Role.supervisor, Role.auditor, Role.approver):
        assert client.post(PUSH, headers=device_token(role, f"phone-of-{role}"), json=batch).status_code == 403, role
    signed_in_browser = client.post(PUSH, headers=auth(Role.inspector), json=batch)

    assert signed_in_browser.status_code == 403
    assert "device token" in signed_in_browser.json()["detail"]
    assert count_rows(owner_engine, "sync_mutations") == 0


def test_a_revoked_device_pushes_nothing(device: Device, client: TestClient, auth: Callable[[Role], dict[str, str]],
                                         owner_engine: Engine) -> None:
    device.push([encroachment()])
    [phone] = client.get(DEVICES, headers=auth(Role.inspector)).json()
    assert client.post(f"{DEVICES}/{phone['id']}/revoke", headers=auth(Role.inspector)).status_code == 200

    response = device.push_response([encroachment()])

    assert response.status_code == 401
    assert count_rows(owner_engine, "sync_mutations") == count_rows(owner_engine, "cases") == 1


def test_every_mutation_is_recorded_with_its_device_user_and_both_clocks(device: Device, owner_engine: Engine) -> None:
    made_offline = datetime.now(UTC) - timedelta(hours=5)
    report = item("encroachment_report", encroachment()["data"], device_time=made_offline)

    device.push([report])

    with owner_engine.connect() as conn:
        row = conn.execute(text("SELECT m.kind, m.status, m.entity_type, m.device_time, m.server_time, u.username, "
                                "d.client_device_id FROM sync_mutations m JOIN users u ON u.id = m.user_id "
                                "JOIN devices d ON d.id = m.device_id")).one()
    assert (row.kind, row.status, row.entity_type, row.username, row.client_device_id) == (
        "encroachment_report", "applied", "case", "test-inspector", "phone-1")
    assert abs((row.device_time - made_offline).total_seconds()) < 1
    assert abs((row.server_time - datetime.now(UTC)).total_seconds()) < 60


def test_each_pushed_report_is_audited_with_who_reported_it(device: Device, owner_engine: Engine) -> None:
    device.push([encroachment(), encroachment()])

    with owner_engine.connect() as conn:
        audited = conn.execute(text("SELECT count(DISTINCT entity_id) FROM audit_log WHERE entity_type = 'case' "
                                    "AND actor_name = 'test-inspector'")).scalar_one()
    assert audited == count_rows(owner_engine, "cases") == 2


def test_pushed_pings_are_stored_together_a_bad_one_is_rejected_alone_and_the_map_hears_the_latest(
        device: Device, owner_engine: Engine) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)

    def ping(minutes: int, lat: float) -> dict[str, object]:
        return item("gps_ping", {"lon": 117.2, "lat": lat, "accuracy_m": 5.0},
                    device_time=start + timedelta(minutes=minutes))

    results = device.push([ping(0, 31.80), ping(4, 95.0), encroachment("between the pings"), ping(8, 31.81)])

    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "applied"]
    assert {"field": "lat", "message": "must be between -90 and 90"} in results[1]["problem"]["errors"]
    with owner_engine.connect() as conn:
        track = conn.execute(text("SELECT ST_Y(position) FROM gps_pings ORDER BY device_time")).scalars().all()
        heard = conn.execute(text("SELECT payload FROM outbox_events WHERE event_type = 'position.reported'")).scalars().all()
    assert track == [31.80, 31.81]
    # The live map is told where the inspector is now (the latest ping), not every point of the track.
    assert [event["lat"] for event in heard] == [31.81]
