"""The console's live events (GET /api/v1/events): what a dispatcher's browser receives, how a
dropped connection resumes, and who sees which events."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session, sessionmaker

from core.permissions import Role
from tests.core.events.conftest import Emit, emit_in
from tests.core.events.sse import Sse, open_stream

Auth = Callable[[Role], dict[str, str]]
# Two districts 10 km apart; the inspector works in the first.
DISTRICT_A = "POLYGON((117.20 31.80, 117.30 31.80, 117.30 31.90, 117.20 31.90, 117.20 31.80))"
IN_A = "POINT(117.25 31.85)"
IN_B = "POINT(117.45 31.85)"
AREA_A = {"type": "Polygon", "coordinates": [[[117.2, 31.8], [117.3, 31.8], [117.3, 31.9], [117.2, 31.9], [117.2, 31.8]]]}


def has(count: int) -> Callable[[list[Sse]], bool]:
    return lambda events: len(events) >= count


def test_a_critical_finding_reaches_a_connected_dispatcher_within_seconds(server: str, auth: Auth, emit: Emit) -> None:
    with open_stream(server, auth(Role.dispatcher)) as stream:
        emit("finding.created", 7, location=IN_A, payload={"severity": "major"})
        committed = time.monotonic()
        event_id = emit("finding.critical", 8, location=IN_A, payload={"severity": "critical", "task_id": 3})

        received = stream.collect(lambda events: any(e.type == "finding.critical" for e in events), within=10)
        elapsed = time.monotonic() - committed

    critical = [e for e in received if e.type == "finding.critical"]
    assert len(critical) == 1 and elapsed < 3, (received, elapsed)
    assert critical[0].data["id"] == event_id and critical[0].data["entity_id"] == "8"
    assert critical[0].data["payload"] == {"severity": "critical", "task_id": 3}
    assert critical[0].data["location"] == {"type": "Point", "coordinates": [117.25, 31.85]}
    # The event before it came first, and the stream's ids are consecutive positions.
    assert [e.type for e in received] == ["finding.created", "finding.critical"]
    assert received[1].id == received[0].id + 1


def test_a_resumed_stream_misses_nothing_and_repeats_nothing_even_when_a_lower_id_commits_late(
        server: str, auth: Auth, emit: Emit, session_factory: sessionmaker[Session]) -> None:
    headers = auth(Role.dispatcher)
    slow = session_factory()
    slow.begin()
    try:
        with open_stream(server, headers) as stream:
            late_id = emit_in(slow, event_type="case.submit", entity_id=1)  # takes the lower id, commits last
            early_id = emit("case.submit", 2)
            first = stream.collect(has(1), within=10)
            assert [e.data["id"] for e in first] == [early_id] and late_id < early_id
        # Disconnected: meanwhile the slow transaction commits and another event happens.
        slow.commit()
        after_id = emit("case.screen", 2)
        with open_stream(server, headers, last_event_id=first[-1].id) as resumed:
            rest = resumed.collect(has(2), within=10)
            extra = resumed.quiet_for(1.5)
    finally:
        slow.close()

    assert [e.data["id"] for e in rest] == [late_id, after_id] and extra == []
    assert [e.id for e in first + rest] == [first[0].id, first[0].id + 1, first[0].id + 2]


def test_after_zero_replays_the_retained_history_and_a_new_stream_starts_from_now(
        server: str, auth: Auth, emit: Emit) -> None:
    ids = [emit("case.submit", n) for n in (1, 2, 3)]
    headers = auth(Role.dispatcher)

    with open_stream(server, headers, params={"after": 0}) as replay:
        history = replay.collect(has(3), within=10)
    with open_stream(server, headers) as live:
        quiet = live.quiet_for(1.0)
        newer = emit("case.screen", 3)
        fresh = live.collect(has(1), within=10)

    assert [e.data["id"] for e in history] == ids and quiet == []
    assert [e.data["id"] for e in fresh] == [newer]


def test_an_inspector_receives_only_events_inside_their_work_area_and_those_without_a_place(
        server: str, auth: Auth, emit: Emit, role_users: dict[Role, int]) -> None:
    answer = httpx.put(f"{server}/api/v1/users/{role_users[Role.inspector]}/work-area", json={"area": AREA_A},
                       headers=auth(Role.admin))
    assert answer.status_code == 200, answer.text
    try:
        with open_stream(server, auth(Role.inspector)) as inspector, \
                open_stream(server, auth(Role.dispatcher)) as dispatcher:
            inside = emit("case.submit", 1, location=IN_A)
            outside = emit("case.submit", 2, location=IN_B)
            nowhere = emit("case.escalate_overdue", 3)
            seen_by_dispatcher = dispatcher.collect(has(3), within=10)
            seen_by_inspector = inspector.collect(has(2), within=10) + inspector.quiet_for(1.0)
    finally:
        httpx.put(f"{server}/api/v1/users/{role_users[Role.inspector]}/work-area", json={"area": None},
                  headers=auth(Role.admin))

    assert [e.data["id"] for e in seen_by_dispatcher] == [inside, outside, nowhere]
    assert [e.data["id"] for e in seen_by_inspector] == [inside, nowhere]


def test_each_role_receives_only_the_entity_types_it_may_read(server: str, auth: Auth, emit: Emit) -> None:
    with open_stream(server, auth(Role.auditor)) as auditor, open_stream(server, auth(Role.inspector)) as inspector, \
            open_stream(server, auth(Role.admin)) as admin:
        case = emit("case.submit", 1)
        finding = emit("finding.critical", 2)  # field findings: those who plan the work
        unknown = emit("reactor.meltdown", 3)  # no domain declares it: administrators only
        line = emit("line.updated", 4)
        by_admin = admin.collect(has(4), within=10)
        by_auditor = auditor.collect(has(2), within=10) + auditor.quiet_for(1.0)
        by_inspector = inspector.collect(has(2), within=10) + inspector.quiet_for(0.5)

    assert [e.data["id"] for e in by_admin] == [case, finding, unknown, line]
    assert [e.data["id"] for e in by_auditor] == [case, line]
    assert [e.data["id"] for e in by_inspector] == [case, line]


def test_the_types_parameter_keeps_only_the_asked_prefixes(server: str, auth: Auth, emit: Emit) -> None:
    with open_stream(server, auth(Role.dispatcher), params={"types": "finding.,case.escalate"}) as stream:
        emit("case.submit", 1)
        overdue = emit("case.escalate_overdue", 1)
        emit("line.updated", 2)
        critical = emit("finding.critical", 3)
        received = stream.collect(has(2), within=10) + stream.quiet_for(1.0)

    assert [e.data["id"] for e in received] == [overdue, critical]


def test_a_quiet_stream_sends_heartbeats(server: str, auth: Auth) -> None:
    with open_stream(server, auth(Role.dispatcher)) as stream:
        assert stream.quiet_for(2.5) == []
        assert stream.comments >= 1


def test_the_stream_needs_a_signed_in_caller_and_a_valid_resume_point(server: str, auth: Auth) -> None:
    anonymous = httpx.get(f"{server}/api/v1/events")
    bad_resume = httpx.get(f"{server}/api/v1/events", headers={**auth(Role.dispatcher), "Last-Event-ID": "abc"})
    in_url = httpx.get(f"{server}/api/v1/events", params={"access_token": auth(Role.dispatcher)["Authorization"][7:]})

    assert anonymous.status_code == 401 and in_url.status_code == 401
    assert bad_resume.status_code == 422 and bad_resume.json()["errors"][0]["field"] == "Last-Event-ID"
