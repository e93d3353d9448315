"""A case's photos as its page and its decision documents show them.

The inspector takes the photos of a site survey on the device, attached to the visit's field task
(or to a finding recorded on it), not to the case: the case's photos are therefore those linked to
the case itself and those of its site-visit tasks and of their findings. Only photos that passed
verification (verified, or suspicious with its reasons: suspicious evidence is shown, never
dropped); pending, rejected, expired and deleted ones are not evidence of anything yet or any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, cast, literal, select, union_all
from sqlalchemy.orm import Session

from cases.models import Case
from inspections.models import FieldTask, Finding
from media.models import ACCEPTED_STATES, Evidence

__all__ = ["PhotoSummary", "case_photos", "photos_of_cases"]


@dataclass(frozen=True)
class PhotoSummary:
    """One photo of a case: what a reader needs beside the thumbnail (when, how far from the asset,
    and why it is suspicious, if it is) and where its derived images are stored."""

    evidence_id: int
    state: str
    file_name: str
    captured_at: datetime | None
    distance_m: float | None
    threshold_m: float | None
    position_source: str | None
    reasons: tuple[dict[str, Any], ...]
    thumb_key: str | None
    large_key: str | None
    link_kind: str
    link_ref: str


def _summary(evidence: Evidence) -> PhotoSummary:
    derived = evidence.derived_keys or {}
    return PhotoSummary(
        evidence_id=evidence.id, state=evidence.state, file_name=evidence.file_name,
        captured_at=evidence.taken_at, distance_m=evidence.distance_m, threshold_m=evidence.threshold_m,
        position_source=evidence.position_source, reasons=tuple(evidence.reasons or ()),
        thumb_key=derived.get("thumb"), large_key=derived.get("large"), link_kind=evidence.link_kind,
        link_ref=evidence.link_ref)


def photos_of_cases(*, db: Session, case_ids: Sequence[int]) -> dict[int, list[PhotoSummary]]:
    """The verified and suspicious photos of each case (of the case, its visit tasks and their
    findings), oldest capture first, then by id; one query however many cases a page holds.

    Sorted here rather than in SQL: the EXIF time is a string in a JSON document and a case has a
    handful of photos, not thousands."""
    found: dict[int, list[PhotoSummary]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return found
    ids = list(case_ids)
    # (link kind, link ref, case id) of every record whose photos are the case's.
    refs = union_all(
        select(literal("case").label("kind"), cast(Case.id, String).label("ref"), Case.id.label("case_id"))
        .where(Case.id.in_(ids)),
        select(literal("task"), cast(FieldTask.uuid, String), FieldTask.case_id).where(FieldTask.case_id.in_(ids)),
        select(literal("finding"), cast(Finding.uuid, String), FieldTask.case_id)
        .join(FieldTask, FieldTask.id == Finding.task_id).where(FieldTask.case_id.in_(ids)),
    ).subquery()
    stmt = (select(Evidence, refs.c.case_id)
            .join(refs, and_(Evidence.link_kind == refs.c.kind, Evidence.link_ref == refs.c.ref))
            .where(Evidence.state.in_(ACCEPTED_STATES)))
    for evidence, case_id in db.execute(stmt):
        found[case_id].append(_summary(evidence))
    never = datetime.max.replace(tzinfo=UTC)
    for photos in found.values():
        photos.sort(key=lambda photo: (photo.captured_at or never, photo.evidence_id))
    return found


def case_photos(*, db: Session, case_id: int, limit: int | None = None) -> list[PhotoSummary]:
    """The verified and suspicious photos of case `case_id`, oldest capture first, at most `limit`."""
    photos = photos_of_cases(db=db, case_ids=[case_id])[case_id]
    return photos if limit is None else photos[:limit]
