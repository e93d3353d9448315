"""The auditor's random sample (DOMAIN.md §5, third level): a share of the tasks reviewed in a
period, reproducible from its seed, never the same task twice; each graded once by its defect
count (≤ 3 good, 4–5 fair, > 5 poor). Auditors change nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.inspections.conftest import NOW, TASKS, Field, if_match, problem

SAMPLES = "/api/v1/quality/samples"
PERIOD = {"reviewed_from": (NOW - timedelta(days=7)).isoformat(), "reviewed_until": (NOW + timedelta(hours=1)).isoformat()}


def approved_tasks(field: Field, count: int) -> list[dict[str, Any]]:
    tasks = []
    for _ in range(count):
        task = field.act(field.started(), "submit", "inspector")
        tasks.append(field.act(task, "approve", "supervisor"))
    return tasks


def draw(field: Field, **body: Any) -> dict[str, Any]:
    response = field.client.post(SAMPLES, json={**PERIOD, **body}, headers=field.headers("auditor"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_sample_takes_the_default_share_of_reviewed_tasks_and_repeats_from_its_seed(
        field: Field, owner_engine: Engine) -> None:
    tasks = approved_tasks(field, 12)
    field.act(tasks[0], "close", "supervisor")  # closed tasks were reviewed too
    field.started()  # not reviewed: never sampled

    sample = draw(field, seed=20261201)

    assert sample["share"] == 0.1 and sample["candidates"] == 12
    chosen = [a["task_id"] for a in sample["audits"]]
    assert len(chosen) == 2 and set(chosen) <= {t["id"] for t in tasks}  # ceil(10 % of 12)
    with owner_engine.begin() as conn:  # the same draw again, as a reviewer of the audit would redo it
        conn.execute(text("DELETE FROM quality_audits"))
    assert [a["task_id"] for a in draw(field, seed=20261201)["audits"]] == chosen


def test_a_task_is_never_sampled_twice_and_a_small_period_still_yields_one(field: Field) -> None:
    approved_tasks(field, 3)

    first = draw(field, share=0.5)
    second = draw(field, share=1.0)
    third = draw(field)

    assert len(first["audits"]) == 2 and second["candidates"] == 1 and len(second["audits"]) == 1
    assert not {a["task_id"] for a in first["audits"]} & {a["task_id"] for a in second["audits"]}
    assert third["candidates"] == 0 and third["audits"] == []


def test_only_tasks_reviewed_in_the_period_are_drawn(field: Field) -> None:
    approved_tasks(field, 2)

    later = {"reviewed_from": (NOW + timedelta(hours=1)).isoformat(),
             "reviewed_until": (NOW + timedelta(days=1)).isoformat()}
    assert draw(field, **later)["candidates"] == 0
    problem(field.client.post(SAMPLES, json={"reviewed_from": later["reviewed_until"],
                                             "reviewed_until": later["reviewed_from"]},
                              headers=field.headers("auditor")), 422)


@pytest.mark.parametrize(("defects", "grade"), [(0, "good"), (3, "good"), (4, "fair"), (5, "fair"), (6, "poor")])
def test_a_grade_follows_the_defect_count(field: Field, defects: int, grade: str) -> None:
    approved_tasks(field, 1)
    (audit,) = draw(field)["audits"]

    graded = field.client.post(f"/api/v1/quality/audits/{audit['id']}/grade", json={"defect_count": defects},
                               headers=field.headers("auditor"))

    assert graded.status_code == 200, graded.text
    assert (graded.json()["grade"], graded.json()["graded_by_id"]) == (grade, field.crew["auditor"].id)


def test_a_grade_is_given_once_and_announced(field: Field, owner_engine: Engine) -> None:
    approved_tasks(field, 1)
    (audit,) = draw(field)["audits"]
    url = f"/api/v1/quality/audits/{audit['id']}/grade"

    field.client.post(url, json={"defect_count": 2, "note": "two photos blurred"}, headers=field.headers("auditor"))
    problem(field.client.post(url, json={"defect_count": 0}, headers=field.headers("auditor")), 409)
    problem(field.client.post("/api/v1/quality/audits/999/grade", json={"defect_count": 0},
                              headers=field.headers("auditor")), 404)

    with owner_engine.connect() as conn:
        payloads = conn.execute(text("SELECT payload FROM outbox_events WHERE event_type = 'quality_audit.graded'"
                                     )).scalars().all()
    assert [(p["grade"], p["defect_count"], p["task_id"]) for p in payloads] == [("good", 2, audit["task_id"])]


def test_an_auditor_changes_nothing_but_samples_and_grades(field: Field) -> None:
    (task,) = approved_tasks(field, 1)

    problem(field.try_act(task, "close", "auditor"), 403)
    problem(field.try_answer(task, by="auditor", remarks="x"), 403)
    problem(field.client.patch(f"{TASKS}/{task['id']}", json={"notes": "x"},
                               headers=field.headers("auditor", **if_match(task))), 403)
    problem(field.client.post(SAMPLES, json=PERIOD, headers=field.headers("supervisor")), 403)
    assert field.get(task["id"], by="auditor")["version"] == task["version"]
