"""A case's photos as its page and documents list them (`media.summaries.case_photos`): those of the
case itself, of its site-visit task (where the inspector's device attaches them) and of that task's
findings; only verified and suspicious ones; oldest capture first."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from media.summaries import case_photos
from tests.cases.conftest import NEAR, Desk, connection_body, desk, network, people
from tests.media.case_evidence import add_finding, add_photo, visit_task_uuid

# The approval console of the case tests, whose fixtures pytest finds by their names here.
CASE_FIXTURES = (desk, network, people)


def at(hour: int) -> datetime:
    return datetime(2026, 11, 29, hour, 0, tzinfo=UTC)


def test_a_case_shows_its_own_its_visit_tasks_and_their_findings_photos_in_capture_order(
        desk: Desk, session_factory: sessionmaker[Session]) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    task = visit_task_uuid(session_factory, case["id"])
    finding = add_finding(session_factory, task)
    on_task = add_photo(session_factory, None, kind="task", ref=task, seed=1, captured_at=at(9))
    on_finding = add_photo(session_factory, None, kind="finding", ref=finding, seed=2, state="suspicious",
                           captured_at=at(8), reasons=[{"code": "location", "message": "212 m from the line"}],
                           distance_m=212.0)
    # No EXIF time: the device's declaration orders it.
    on_case = add_photo(session_factory, None, kind="case", ref=str(case["id"]), seed=3, device_captured_at=at(10))

    with session_factory() as db:
        photos = case_photos(db=db, case_id=case["id"])

    assert [(p.evidence_id, p.link_kind) for p in photos] == [(on_finding, "finding"), (on_task, "task"),
                                                              (on_case, "case")]
    assert [p.captured_at for p in photos] == [at(8), at(9), at(10)]
    suspicious = photos[0]
    assert (suspicious.state, suspicious.distance_m, suspicious.threshold_m) == ("suspicious", 212.0, 50.0)
    assert suspicious.reasons == ({"code": "location", "message": "212 m from the line"},)
    with session_factory() as db:
        assert [p.evidence_id for p in case_photos(db=db, case_id=case["id"], limit=2)] == [on_finding, on_task]


def test_photos_not_verified_or_deleted_and_other_cases_photos_are_not_the_cases(
        desk: Desk, session_factory: sessionmaker[Session]) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    other = desk.register(connection_body(NEAR))
    task = visit_task_uuid(session_factory, case["id"])
    shown = add_photo(session_factory, None, kind="task", ref=task, seed=1, captured_at=at(9))
    for seed, state in enumerate(("uploading", "pending", "rejected", "expired"), start=2):
        add_photo(session_factory, None, kind="task", ref=task, seed=seed, state=state, captured_at=at(9))
    add_photo(session_factory, None, kind="case", ref=str(case["id"]), seed=7, state="deleted", deleted=True)
    add_photo(session_factory, None, kind="case", ref=str(other["id"]), seed=8)

    with session_factory() as db:
        assert [p.evidence_id for p in case_photos(db=db, case_id=case["id"])] == [shown]
        assert case_photos(db=db, case_id=10**9) == []
