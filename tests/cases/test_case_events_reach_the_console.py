"""Cases on the dispatchers' console: an encroachment report and a case the daily job flags
overdue arrive on a connected dispatcher's event stream within seconds, with the case's place and
without the applicant's or the responsible party's personal data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from core.celery_app import create_celery
from core.permissions import Role
from core.settings import Settings
from tests.cases.conftest import FAR, NEAR, Desk, connection_body
from tests.cases.test_deadlines_and_overdue import set_deadline
from tests.core.events.conftest import events_app, server  # noqa: F401 (fixtures: the API under uvicorn)
from tests.core.events.sse import open_stream

PERSONAL = ("李四", "张三", "13800138000", "110101199003071234")


def test_an_encroachment_report_reaches_a_connected_dispatcher_within_seconds(server: str, desk: Desk) -> None:  # noqa: F811
    with open_stream(server, desk.people["dispatcher"].headers, params={"types": "case."}) as stream:
        reported_at = time.monotonic()
        case = desk.report(NEAR, by="inspector")
        events = stream.collect(lambda found: any(e.data["entity_id"] == str(case["id"]) for e in found), within=10)
        elapsed = time.monotonic() - reported_at

    report = next(e for e in events if e.data["entity_id"] == str(case["id"]))
    assert elapsed < 5 and report.type == "case.submit"
    assert report.data["payload"]["kind"] == "encroachment" and report.data["payload"]["number"] == case["number"]
    # The event carries coordinates to 9 decimals (0.1 mm).
    assert report.data["location"]["coordinates"] == pytest.approx(case["location"]["coordinates"], abs=1e-9)
    assert not any(value in str(report.data) for value in PERSONAL)


def test_a_case_the_daily_job_flags_overdue_reaches_a_connected_dispatcher(
        server: str, desk: Desk, owner_engine: Engine, settings: Settings, celery_worker: object) -> None:  # noqa: F811
    late = desk.register(connection_body(FAR))
    set_deadline(owner_engine, late["id"], datetime.now(UTC) - timedelta(days=2))

    with open_stream(server, desk.people["dispatcher"].headers, params={"types": "case.escalate_overdue"}) as stream:
        assert create_celery(settings).send_task("cases.flag_overdue").get(timeout=30) == [late["id"]]
        flagged_at = time.monotonic()
        events = stream.collect(lambda found: bool(found), within=10)
        elapsed = time.monotonic() - flagged_at

    assert [(e.type, e.data["entity_id"]) for e in events] == [("case.escalate_overdue", str(late["id"]))]
    assert elapsed < 5 and events[0].data["payload"]["escalation_level"] == 1
    assert events[0].data["location"]["coordinates"] == pytest.approx(late["location"]["coordinates"], abs=1e-9)
    assert not any(value in str(events[0].data) for value in PERSONAL)


def test_an_inspector_does_not_receive_cases_outside_their_work_area(server: str, desk: Desk) -> None:  # noqa: F811
    lon, lat = NEAR
    around_near = {"type": "Polygon", "coordinates": [[[lon - 0.001, lat - 0.001], [lon + 0.001, lat - 0.001],
                                                       [lon + 0.001, lat + 0.001], [lon - 0.001, lat + 0.001],
                                                       [lon - 0.001, lat - 0.001]]]}
    inspector = desk.people["inspector"]
    assert desk.client.put(f"/api/v1/users/{inspector.id}/work-area", json={"area": around_near},
                           headers=desk.people["admin"].headers).status_code == 200
    try:
        with open_stream(server, inspector.headers, params={"types": "case.submit"}) as stream:
            far = desk.register(connection_body(FAR))
            near = desk.register(connection_body(NEAR))
            seen = stream.collect(lambda found: bool(found), within=10) + stream.quiet_for(1.0)
    finally:
        desk.client.put(f"/api/v1/users/{inspector.id}/work-area", json={"area": None},
                        headers=desk.people["admin"].headers)

    assert inspector.role is Role.inspector
    assert [e.data["entity_id"] for e in seen] == [str(near["id"])] and far["id"] != near["id"]
