"""A photo uploaded before its record: it is inspected and waits; when the device pushes the record,
the photo is linked and assessed in that same transaction, or rejected if its uploader may not
attach photos to that record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.context import Actor
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from inspections import service
from inspections.specs import FindingSpec
from inspections.workflow import TaskAction
from media.models import Evidence, EvidenceState
from tests.conftest import sign_in_people
from tests.media.evidence_helpers import codes, create_line_task, photo_near_line, send_verify, stage, wait_for_row

pytestmark = pytest.mark.usefixtures("celery_worker")


def _inspected_and_waiting(session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
                           *, finding_uuid: str, uploader: int, now: datetime) -> Evidence:
    staged = stage(session_factory, storage, settings, photo_near_line(now), kind="finding", ref=finding_uuid,
                   uploaded_by=uploader)
    send_verify(settings, staged.evidence_id)
    return wait_for_row(session_factory, staged.evidence_id, until=lambda e: e.sha256 is not None)


def _report_finding(session_factory: sessionmaker[Session], inspector: Actor, finding_uuid: str,
                    now: datetime) -> int:
    task_id, _ = create_line_task(session_factory, now, assignee_id=inspector.user_id)
    with session_factory() as db, db.begin():
        service.act(db=db, actor=inspector, now=now, task_id=task_id, action=TaskAction.accept, expected_version=None)
        finding, _ = service.report_finding(db=db, actor=inspector, now=now, task_id=task_id,
                                            spec=FindingSpec(severity="minor", category="pole_tilt"),
                                            finding_uuid=uuid.UUID(finding_uuid))
        return finding.id


def test_a_photo_first_and_its_finding_later_is_linked_and_assessed(
        session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
        role_users: dict[Role, int]) -> None:
    now = datetime.now(UTC)
    inspector = Actor(user_id=role_users[Role.inspector], username="test-inspector", role=Role.inspector)
    finding_uuid = str(uuid.uuid4())
    waiting = _inspected_and_waiting(session_factory, storage, settings, finding_uuid=finding_uuid,
                                     uploader=role_users[Role.inspector], now=now)
    assert (waiting.state, waiting.record_id, waiting.detected_type) == (EvidenceState.pending, None, "jpeg")

    finding_id = _report_finding(session_factory, inspector, finding_uuid, now)

    with session_factory() as db:  # decided in the finding's own transaction: no waiting on a worker
        evidence = db.get(Evidence, waiting.id)
        assert evidence is not None
        assert (evidence.record_id, evidence.state, evidence.chain_seq) == (finding_id, EvidenceState.verified, 1)
        assert evidence.linked_at is not None and evidence.distance_m is not None and evidence.distance_m < 50


def test_a_photo_by_someone_who_may_not_attach_to_the_finding_is_rejected_when_it_arrives(
        session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
        role_users: dict[Role, int]) -> None:
    now = datetime.now(UTC)
    inspector = Actor(user_id=role_users[Role.inspector], username="test-inspector", role=Role.inspector)
    colleague = sign_in_people(settings, session_factory, {"inspector2": (Role.inspector, "")})["inspector2"]
    finding_uuid = str(uuid.uuid4())
    waiting = _inspected_and_waiting(session_factory, storage, settings, finding_uuid=finding_uuid,
                                     uploader=colleague.id, now=now)

    _report_finding(session_factory, inspector, finding_uuid, now)

    with session_factory() as db:
        evidence = db.get(Evidence, waiting.id)
        assert evidence is not None
        assert (evidence.state, codes(evidence), evidence.chain_seq) == (EvidenceState.rejected, ["link"], None)


def test_a_photo_of_a_follow_up_task_made_on_the_device_is_linked_when_the_task_is_pushed(
        session_factory: sessionmaker[Session], storage: ObjectStorage, settings: Settings,
        role_users: dict[Role, int]) -> None:
    now = datetime.now(UTC)
    task_uuid = str(uuid.uuid4())
    staged = stage(session_factory, storage, settings, photo_near_line(now), kind="task", ref=task_uuid,
                   uploaded_by=role_users[Role.dispatcher])
    send_verify(settings, staged.evidence_id)
    wait_for_row(session_factory, staged.evidence_id, until=lambda e: e.sha256 is not None)

    task_id, _ = create_line_task(session_factory, now, uuid=uuid.UUID(task_uuid))

    with session_factory() as db:
        evidence = db.get(Evidence, staged.evidence_id)
        assert evidence is not None
        assert (evidence.record_id, evidence.state, evidence.chain_seq) == (task_id, EvidenceState.verified, 1)
