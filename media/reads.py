"""Reading evidence: one evidence, a record's evidence (tombstones included, so a gap in the
custody chain is explained), and a short-lived link to a photo's bytes.

The bytes never pass through the API: a reader gets a presigned GET (valid `read_url_seconds`)
naming the type and file name. Opening an original, the evidence itself, is audited even though it
is a read; thumbnails and the large preview (no EXIF, no GPS) are not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict
from core.settings import Settings
from core.storage import ObjectStorage
from core.users.models import User
from media import access
from media.models import ACCEPTED_STATES, Evidence
from media.schemas import EvidenceOut, Variant
from media.settings import evidence_settings

DERIVED_TYPE = "image/jpeg"
# The type the worker found in the bytes names the original better than what the device declared.
DETECTED_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "heic": "image/heic", "webp": "image/webp"}


def present_all(*, db: Session, evidences: list[Evidence]) -> list[EvidenceOut]:
    """The API's view of evidence, with the uploaders' usernames (one query for all of them)."""
    ids = {e.uploaded_by_id for e in evidences if e.uploaded_by_id is not None}
    rows = db.execute(select(User.id, User.username).where(User.id.in_(ids))).all() if ids else []
    names = {row.id: row.username for row in rows}
    return [EvidenceOut.build(e, uploaded_by=names.get(e.uploaded_by_id) if e.uploaded_by_id else None)
            for e in evidences]


def present(*, db: Session, evidence: Evidence) -> EvidenceOut:
    return present_all(db=db, evidences=[evidence])[0]


def get_evidence(*, db: Session, actor: Actor, evidence_id: int) -> EvidenceOut:
    """`GET /evidence/{id}` (404 when the caller may not see it)."""
    return present(db=db, evidence=access.viewable_evidence(db=db, actor=actor, evidence_id=evidence_id))


def record_evidence(*, db: Session, actor: Actor, kind: str, ref: str) -> list[EvidenceOut]:
    """Every evidence of one record, oldest first, deleted ones as tombstones."""
    canonical = access.require_view_record(db=db, actor=actor, kind=kind, ref=ref)
    found = db.scalars(select(Evidence).where(Evidence.link_kind == kind, Evidence.link_ref == canonical)
                       .order_by(Evidence.id)).all()
    return present_all(db=db, evidences=list(found))


@dataclass(frozen=True)
class ContentLink:
    url: str
    expires_at: datetime


def header_safe(file_name: str) -> str:
    """The name as a quoted Content-Disposition filename can carry it (ASCII, no quotes)."""
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)


def _derived_name(file_name: str, variant: str) -> str:
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return f"{stem}-{variant}.jpg"


def content_link(*, db: Session, storage: ObjectStorage, settings: Settings, actor: Actor, now: datetime,
                 evidence_id: int, variant: Variant) -> ContentLink:
    """`GET /evidence/{id}/content`: a presigned GET of one variant of accepted evidence."""
    evidence = access.viewable_evidence(db=db, actor=actor, evidence_id=evidence_id)
    if evidence.state not in ACCEPTED_STATES:
        raise Conflict(f"Evidence {evidence_id} is {evidence.state}: only verified or suspicious evidence is served.")
    if variant == "original":
        key, name = evidence.original_key, evidence.file_name
        content_type = DETECTED_TYPES.get(evidence.detected_type or "", evidence.declared_type)
    else:
        key, content_type = evidence.derived_keys.get(variant), DERIVED_TYPE
        name = _derived_name(evidence.file_name, variant)
    if key is None:
        raise Conflict(f"The {variant} image of evidence {evidence_id} has not been made yet.", variant=variant)
    lifetime = timedelta(seconds=evidence_settings(settings).read_url_seconds)
    url = storage.presigned_get(bucket=settings.s3.evidence_bucket, key=key, expires=lifetime,
                                content_type=content_type, file_name=header_safe(name))
    if variant == "original":
        audit_service.record(db=db, actor=actor, action="evidence.read_original", entity_type="evidence",
                             entity_id=evidence.id, before=None, after={"variant": variant, "key": key})
    return ContentLink(url=url, expires_at=now + lifetime)
