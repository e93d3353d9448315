"""Two people at once: the task row is locked while it changes, so two moves made on the same
version end as one change and one 412, and the same finding sent twice at once is one finding."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, text

from tests.inspections.conftest import Field


def test_two_dispatchers_assigning_the_same_version_at_once_make_one_change(field: Field,
                                                                             owner_engine: Engine) -> None:
    task = field.create()
    start = threading.Barrier(2)

    def assign(inspector: str) -> Any:
        start.wait(timeout=10)
        return field.try_act(task, "assign", "dispatcher", assignee_id=field.crew[inspector].id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(assign, ["inspector", "inspector2"]))

    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    assert field.get(task["id"])["assignee"] == winner["assignee"]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'task.assigned'")).scalar() == 1


def test_the_same_finding_sent_twice_at_once_is_one_finding(field: Field, owner_engine: Engine) -> None:
    task = field.started()
    report = {"uuid": str(uuid4()), "severity": "critical", "category": "pole_tilt"}
    start = threading.Barrier(2)

    def send(_: int) -> Any:
        start.wait(timeout=10)
        return field.try_report(task, **report)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(send, [1, 2]))

    assert sorted(r.status_code for r in responses) == [200, 201], [r.text for r in responses]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM findings")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM outbox_events WHERE event_type = 'finding.critical'")
                            ).scalar() == 1
