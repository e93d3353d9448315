"""The evidence API's bodies (pydantic, at the edge only): what a device declares when it asks to
upload a photo, and what every evidence route answers (`EvidenceOut`, shared with the custody routes).

Rules that need no settings are checked here (a well-formed SHA-256, a file name that cannot name a
path, a position on the globe, a capture time with its offset); rules that do (allowed types, the
size limit) and the link are the service's (`media.uploads`)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.bounds import INT64_MAX, IsoDateTime, column_length
from media.models import ACCEPTED_STATES, Evidence

# Before digital cameras wrote EXIF dates reliably; a capture time earlier than this is a broken clock.
EARLIEST_CAPTURE = datetime(2000, 1, 1, tzinfo=UTC)
LINK_KIND_MAX = column_length(Evidence.link_kind)
LINK_REF_MAX = column_length(Evidence.link_ref)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=LINK_KIND_MAX,
                      description="case, task, finding or reading (the installed domains' kinds)")
    ref: str = Field(min_length=1, max_length=LINK_REF_MAX,
                     description="The case id, or the uuid the device gave the task, finding or reading")


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    longitude: float = Field(ge=-180, le=180)
    latitude: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=10000, description="The device's estimate, metres")


class UploadIn(BaseModel):
    """A device's request to upload one photo for one record."""

    model_config = ConfigDict(extra="forbid")

    uuid: UUID | None = Field(default=None, description="Made on the device; asking again with it is harmless")
    link: LinkIn
    file_name: str = Field(min_length=1, max_length=column_length(Evidence.file_name))
    content_type: str = Field(min_length=1, max_length=column_length(Evidence.declared_type))
    size: int = Field(ge=1, le=INT64_MAX, description="Bytes (larger than the limit: 413)")
    sha256: str = Field(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$",
                        description="SHA-256 of the bytes, 64 hex digits")
    captured_at: IsoDateTime | None = Field(default=None, description="The device's capture time, with its offset")
    position: PositionIn | None = Field(default=None, description="Where the device was (used when the photo "
                                                                  "has no GPS of its own)")

    @field_validator("sha256")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        return value.lower()  # the pattern has checked it is 64 hex digits

    @field_validator("file_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        # The name reaches a Content-Disposition header and people's download folders: never a path.
        if "/" in value or "\\" in value or any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("must be a file name without path separators or control characters")
        return value

    @field_validator("captured_at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must carry its UTC offset, e.g. 2026-11-20T09:30:00+08:00")
        if value < EARLIEST_CAPTURE:
            raise ValueError("must not be before 2000")
        return value


class PutUploadOut(BaseModel):
    method: Literal["PUT"] = "PUT"
    url: str
    expires_at: datetime


class PartUrlOut(BaseModel):
    part_number: int
    url: str


class MultipartUploadOut(BaseModel):
    multipart: Literal[True] = True
    part_size: int
    part_count: int
    parts: list[PartUrlOut]
    expires_at: datetime


class LinkOut(BaseModel):
    kind: str
    ref: str
    record_id: int | None = Field(description="Null while the device's record has not reached the server")


class ChainOut(BaseModel):
    seq: int
    hash: str


class EvidenceOut(BaseModel):
    id: int
    uuid: UUID
    link: LinkOut
    state: str
    reasons: list[dict[str, Any]]
    file_name: str
    declared_type: str
    size: int = Field(description="Measured by verification; the declared size until then")
    sha256: str = Field(description="Measured by verification; the declared SHA-256 until then")
    detected_type: str | None
    captured_at: datetime | None = Field(description="From the photo's EXIF, else the device's declaration")
    position_source: str | None
    distance_m: float | None
    threshold_m: float | None
    exif: dict[str, Any]
    uploaded_by: str | None
    created_at: datetime
    completed_at: datetime | None
    verified_at: datetime | None
    chain: ChainOut | None
    variants: list[str] = Field(description="What GET /evidence/{id}/content can serve now")
    deleted_at: datetime | None
    deletion_reason: str | None

    @classmethod
    def build(cls, evidence: Evidence, *, uploaded_by: str | None) -> EvidenceOut:
        chain = ChainOut(seq=evidence.chain_seq, hash=evidence.chain_hash) \
            if evidence.chain_seq is not None and evidence.chain_hash is not None else None
        return cls(id=evidence.id, uuid=evidence.uuid,
                   link=LinkOut(kind=evidence.link_kind, ref=evidence.link_ref, record_id=evidence.record_id),
                   state=evidence.state, reasons=list(evidence.reasons), file_name=evidence.file_name,
                   declared_type=evidence.declared_type, size=evidence.size or evidence.declared_size,
                   sha256=evidence.sha256 or evidence.declared_sha256, detected_type=evidence.detected_type,
                   captured_at=evidence.taken_at, position_source=evidence.position_source, distance_m=evidence.distance_m,
                   threshold_m=evidence.threshold_m, exif=dict(evidence.exif), uploaded_by=uploaded_by,
                   created_at=evidence.created_at, completed_at=evidence.completed_at,
                   verified_at=evidence.verified_at, chain=chain, variants=available_variants(evidence),
                   deleted_at=evidence.deleted_at, deletion_reason=evidence.deletion_reason)


Variant = Literal["original", "large", "thumb"]
VARIANTS: tuple[Variant, ...] = ("original", "large", "thumb")


def available_variants(evidence: Evidence) -> list[str]:
    """Only accepted evidence is served; the original once stored, derived images once made."""
    if evidence.state not in ACCEPTED_STATES:
        return []
    found = ["original"] if evidence.original_key else []
    return found + [v for v in VARIANTS[1:] if v in evidence.derived_keys]


class UploadCreatedOut(BaseModel):
    evidence: EvidenceOut
    upload: Annotated[PutUploadOut | MultipartUploadOut | None, Field(
        description="Where to send the bytes; null when the same bytes are stored already (call complete)")]


class ReceivedPartOut(BaseModel):
    part_number: int
    size: int
    etag: str


class PartsOut(BaseModel):
    received: list[ReceivedPartOut]
    missing: list[PartUrlOut] = Field(description="Fresh URLs for the parts not received yet")
    expires_at: datetime


class EvidenceListOut(BaseModel):
    items: list[EvidenceOut]


class ContentUrlOut(BaseModel):
    url: str
    expires_at: datetime


class DeletionIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Why the evidence is deleted (audited)")


class ChainLinkOut(BaseModel):
    kind: str
    ref: str


class BrokenLinkOut(BaseModel):
    seq: int | None
    evidence_id: int
    reason: str = Field(description="hash | previous | sequence")


class ChainCheckOut(BaseModel):
    """A record's custody chain recomputed: `intact`, or the first entry that does not verify."""

    link: ChainLinkOut
    entries: int
    intact: bool
    first_broken: BrokenLinkOut | None
