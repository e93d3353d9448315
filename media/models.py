"""Photo evidence: one row per photo attached to one record (a case, a task, a finding, a meter
reading), from the moment a device asks to upload it until it is verified, suspicious or rejected,
and, as a tombstone, after an administrator or the retention policy deleted it.

Why one row per photo and record, not per file: the same file may prove two things (a seal photo on
the reading and on the theft case). The bytes are stored once, under a content-addressed key
(`original_key`, from the SHA-256 the worker measured); each row keeps its own declaration, its
own checks against its own record and its own place in that record's custody chain.

A record is named by `link_kind` and `link_ref` (the case id, or the uuid the device gave the task,
finding or reading), so a photo taken offline can be uploaded before the record it belongs to has
been pushed: `record_id` stays NULL until the record arrives (`media.links`).

The application role may insert and update rows, never delete one (migration `f98493acf05f`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class EvidenceState(StrEnum):
    """uploading -> pending -> verified | suspicious | rejected; uploading -> expired (never
    completed); any -> deleted (a tombstone: the row and its chain entry stay, the bytes go)."""

    uploading = "uploading"
    pending = "pending"
    verified = "verified"
    suspicious = "suspicious"
    rejected = "rejected"
    expired = "expired"
    deleted = "deleted"


# Accepted: verification passed (a suspicious photo with its reasons); served, shown and chained.
ACCEPTED_STATES: tuple[str, ...] = (EvidenceState.verified.value, EvidenceState.suspicious.value)
# Ended without a photo: such evidence never holds or needs stored bytes again.
ENDED_STATES: tuple[str, ...] = (EvidenceState.rejected.value, EvidenceState.expired.value,
                                 EvidenceState.deleted.value)


def original_key(sha256: str) -> str:
    """Where accepted bytes live: content-addressed, written once, never overwritten."""
    return f"originals/{sha256}"


def derived_key(sha256: str, variant: str) -> str:
    return f"derived/{sha256}/{variant}.jpg"


def staging_key(evidence_uuid: uuid.UUID) -> str:
    """Where the device PUTs its bytes: never an original's key, so no client overwrites evidence."""
    return f"uploads/{evidence_uuid}"


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The device's id for this upload: asking again with the same uuid returns this row.
    uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, default=uuid.uuid4)
    link_kind: Mapped[str] = mapped_column(String(20))
    link_ref: Mapped[str] = mapped_column(String(64))
    # The linked record's primary key once it exists (NULL while a device's record has not arrived).
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), index=True, default=EvidenceState.uploading)
    # Why suspicious or rejected: [{"code": "location"|"time"|"integrity"|"type"|"link"|..., "message": ...}]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))

    # What the device declared when it asked to upload.
    file_name: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str] = mapped_column(String(100))
    declared_size: Mapped[int] = mapped_column(BigInteger)
    declared_sha256: Mapped[str] = mapped_column(String(64), index=True)
    device_captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    device_position = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    device_accuracy_m: Mapped[float | None] = mapped_column(Float)

    # Where the bytes are. `staging_key`: what the device PUTs to (never an original's key, so a
    # client cannot overwrite stored evidence); NULL when the same bytes were already stored.
    staging_key: Mapped[str | None] = mapped_column(String(300))
    multipart_upload_id: Mapped[str | None] = mapped_column(String(300))
    part_size: Mapped[int | None] = mapped_column(BigInteger)
    part_count: Mapped[int | None] = mapped_column(Integer)
    # Set by verification: content-addressed, never overwritten ("originals/<sha256>").
    original_key: Mapped[str | None] = mapped_column(String(300))
    # {"large": key, "thumb": key}: JPEGs with orientation applied and no EXIF (no GPS).
    derived_keys: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))

    # What verification measured and read.
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    detected_type: Mapped[str | None] = mapped_column(String(20))  # jpeg | png | heic | webp
    # {captured_at, longitude, latitude, accuracy_m, make, model, orientation, width, height}; absent keys: not in the file.
    exif: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    # The location check: which position was used ("exif", or "device": weaker), the distance in
    # metres to the linked record's geometry and the threshold that applied.
    position_source: Mapped[str | None] = mapped_column(String(10))
    distance_m: Mapped[float | None] = mapped_column(Float)
    threshold_m: Mapped[float | None] = mapped_column(Float)

    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verify_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)

    # The custody chain of the linked record (`media.custody`): set when the evidence is accepted
    # (verified or suspicious); seq 1, 2, ... per (link_kind, link_ref).
    chain_seq: Mapped[int | None] = mapped_column(Integer)
    chain_prev_hash: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deletion_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("state IN ('uploading', 'pending', 'verified', 'suspicious', 'rejected', 'expired', "
                        "'deleted')", name="state"),
        CheckConstraint("declared_size > 0", name="declared_size_positive"),
        CheckConstraint("(chain_seq IS NULL) = (chain_hash IS NULL)", name="chain_entry"),
        UniqueConstraint("link_kind", "link_ref", "chain_seq", name="uq_evidence_chain_position"),
        Index("ix_evidence_link", "link_kind", "link_ref"),
    )

    @property
    def taken_at(self) -> datetime | None:
        """When the photo was taken: the EXIF time the worker read (always with its offset: the
        utility's zone where the camera wrote none), else the device's declaration."""
        value = (self.exif or {}).get("captured_at")
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return self.device_captured_at
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return self.device_captured_at
