"""GPS pings: stored with device and server time, the latest per inspector with its age, a track with
skewed pings flagged, and the daily retention that deletes old tracks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.database import unit_of_work
from core.errors import InvalidInput
from core.permissions import Role
from core.settings import Settings
from inspections.sync import positions
from inspections.sync.settings import sync_settings
from tests.inspections.sync.conftest import DeviceLogin

Auth = Callable[[Role], dict[str, str]]
NOON = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def at_noon(app: FastAPI) -> Iterator[Callable[[datetime], None]]:
    """Set the API's clock (`at_noon(moment)`); restored afterwards."""
    real = app.state.clock
    moment = [NOON]
    app.state.clock = lambda: moment[0]

    def set_time(value: datetime) -> None:
        moment[0] = value

    yield set_time
    app.state.clock = real


def _ping(client: TestClient, headers: dict[str, str], lon: float, lat: float, device_time: datetime,
          accuracy_m: float = 5.0):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/positions", headers=headers,
                       json={"lon": lon, "lat": lat, "accuracy_m": accuracy_m, "device_time": device_time.isoformat()})


def test_a_ping_is_stored_with_device_and_server_time_and_its_skew(client: TestClient, device_token: DeviceLogin,
                                                                   at_noon: Callable[[datetime], None],
                                                                   owner_engine: Engine) -> None:
    headers = device_token()
    response = _ping(client, headers, 117.2272, 31.8206, NOON - timedelta(seconds=30))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["lon"], body["lat"], body["skew_s"], body["skew_flagged"]) == (117.2272, 31.8206, -30.0, False)
    with owner_engine.connect() as conn:
        row = conn.execute(text("SELECT device_id, server_time, device_time, ST_AsText(position) FROM gps_pings")).one()
        events = conn.execute(text("SELECT count(*) FROM outbox_events WHERE event_type = 'position.reported'")).scalar()
    assert row[0] is not None and row[1] == NOON and row[2] == NOON - timedelta(seconds=30)
    assert row[3] == "POINT(117.2272 31.8206)"
    assert events == 1


def test_a_device_clock_beyond_the_threshold_is_flagged_and_shown_in_the_track(
        client: TestClient, device_token: DeviceLogin, auth: Auth, at_noon: Callable[[datetime], None],
        settings: Settings, role_users: dict[Role, int]) -> None:
    headers = device_token()
    threshold = sync_settings(settings).clock_skew_threshold_s
    _ping(client, headers, 117.2272, 31.8206, NOON + timedelta(seconds=threshold - 1))
    at_noon(NOON + timedelta(minutes=1))
    _ping(client, headers, 117.2280, 31.8210, NOON - timedelta(hours=3))  # clock three hours behind
    track = client.get("/api/v1/positions", headers=auth(Role.dispatcher), params={
        "user": role_users[Role.inspector], "from": (NOON - timedelta(hours=1)).isoformat(),
        "to": (NOON + timedelta(hours=1)).isoformat()})
    assert track.status_code == 200
    assert [(p["skew_flagged"], p["skew_s"]) for p in track.json()] == [(False, threshold - 1), (True, -3 * 3600 - 60)]


def test_the_latest_position_of_each_inspector_with_its_age(client: TestClient, device_token: DeviceLogin,
                                                            auth: Auth, at_noon: Callable[[datetime], None],
                                                            role_users: dict[Role, int]) -> None:
    headers = device_token()
    _ping(client, headers, 117.20, 31.80, NOON)
    at_noon(NOON + timedelta(minutes=5))
    _ping(client, headers, 117.21, 31.81, NOON + timedelta(minutes=5))
    at_noon(NOON + timedelta(minutes=7))
    latest = client.get("/api/v1/positions/latest", headers=auth(Role.dispatcher)).json()
    assert [(p["user_id"], p["lon"], p["lat"], p["age_s"]) for p in latest] == [
        (role_users[Role.inspector], 117.21, 31.81, 120.0)]
    # The inspector sees their own; another's track is refused.
    assert len(client.get("/api/v1/positions/latest", headers=auth(Role.inspector)).json()) == 1
    other = client.get("/api/v1/positions", headers=auth(Role.inspector), params={
        "user": role_users[Role.dispatcher], "from": NOON.isoformat(), "to": NOON.isoformat()})
    assert other.status_code == 403
    assert client.get("/api/v1/positions/latest", headers=auth(Role.approver)).status_code == 403


@pytest.mark.parametrize(("field", "value"), [("lon", 180.5), ("lat", -91), ("accuracy_m", -1),
                                              ("device_time", "yesterday"), ("device_time", "2026-11-20T04:00:00")])
def test_a_ping_out_of_range_or_without_a_placeable_time_is_refused(client: TestClient, device_token: DeviceLogin,
                                                                    owner_engine: Engine, field: str,
                                                                    value: object) -> None:
    body = {"lon": 117.2, "lat": 31.8, "accuracy_m": 5, "device_time": NOON.isoformat(), field: value}
    response = client.post("/api/v1/positions", headers=device_token(), json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM gps_pings")).scalar() == 0


def test_record_ping_checks_the_position_for_callers_without_a_schema(session_factory: sessionmaker[Session],
                                                                       settings: Settings,
                                                                       role_users: dict[Role, int]) -> None:
    actor = Actor(user_id=role_users[Role.inspector], username="test-inspector", role=Role.inspector)
    with pytest.raises(InvalidInput, match="lat"), unit_of_work(session_factory) as db:
        positions.record_ping(db=db, actor=actor, settings=settings, device_id=None, lon=10, lat=95,
                              accuracy_m=1, device_time=NOON, now=NOON)


def test_the_retention_job_deletes_old_pings_and_audits_one_summary(celery_worker: object, client: TestClient,
                                                                    device_token: DeviceLogin, settings: Settings,
                                                                    owner_engine: Engine,
                                                                    at_noon: Callable[[datetime], None]) -> None:
    headers = device_token()
    retention = timedelta(days=sync_settings(settings).ping_retention_days)
    now = datetime.now(UTC)
    for moment in (now - retention - timedelta(days=2), now - retention - timedelta(hours=1),
                   now - retention + timedelta(hours=1)):
        at_noon(moment)
        _ping(client, headers, 117.2, 31.8, moment)
    from inspections.sync.tasks import purge_old_pings

    assert purge_old_pings.delay().get(timeout=30) == 2
    with owner_engine.connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM gps_pings")).scalar()
        audits = conn.execute(text("SELECT actor_name, after FROM audit_log WHERE action = 'gps_pings.retention'")).all()
    assert kept == 1
    assert len(audits) == 1 and audits[0].after["deleted"] == 2 and audits[0].actor_name == "system:gps-retention"
