"""Inspection of an uploaded photo by the worker: the bytes as stored, not as declared (issue 11, §2).

The object is streamed once: size and SHA-256 are measured as it arrives (a mismatch with the
device's declaration rejects it: `integrity`), the type is read from its magic bytes (`type`), the
EXIF facts are read and the derived images made. Only then is the original written to
its content-addressed key from the bytes measured (`originals/<sha256>`: written once, never overwritten, so the same bytes
are stored once) and the staging object removed.

Why no database here: this is the slow S3 and CPU work, done without holding the evidence row's
lock; the task writes the outcome afterwards, re-checking the row's state (`media.tasks`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from core.errors import NotFound
from core.storage import ObjectStorage
from media.models import derived_key, original_key
from media.photos import HEAD_BYTES, VARIANTS, UnreadablePhoto, detect_type, inspect_photo, read_facts

JPEG = "image/jpeg"


@dataclass(frozen=True)
class Upload:
    """What inspection needs of an evidence row (read before, without a lock)."""

    source_key: str
    staging_key: str | None
    declared_size: int
    declared_sha256: str


@dataclass(frozen=True)
class Inspection:
    size: int | None = None
    sha256: str | None = None
    detected_type: str | None = None
    exif: dict[str, Any] = field(default_factory=dict)
    original_key: str | None = None
    derived_keys: dict[str, str] = field(default_factory=dict)
    # Non-empty: the upload is rejected for these reasons ({"code": "integrity"|"type", "message": ...}).
    reasons: list[dict[str, str]] = field(default_factory=list)


def _read(storage: ObjectStorage, bucket: str, key: str, limit: int) -> tuple[bytes, str, bool]:
    """The object's bytes and SHA-256; stops reading past `limit` bytes (third value True)."""
    digest, chunks, size = hashlib.sha256(), [], 0
    with storage.stream(bucket=bucket, key=key) as stream:
        for chunk in stream:
            size += len(chunk)
            if size > limit:
                return b"", "", True
            digest.update(chunk)
            chunks.append(chunk)
    return b"".join(chunks), digest.hexdigest(), False


def _reject(code: str, message: str, **measured: Any) -> Inspection:
    return Inspection(reasons=[{"code": code, "message": message}], **measured)


def _source(storage: ObjectStorage, bucket: str, upload: Upload) -> str | None:
    """Where the bytes are: the staging key, or, when an earlier attempt already moved them and was
    lost before it could record that, the original its declaration names."""
    if storage.stat(bucket=bucket, key=upload.source_key) is not None:
        return upload.source_key
    fallback = original_key(upload.declared_sha256)
    return fallback if storage.stat(bucket=bucket, key=fallback) is not None else None


def inspect(*, storage: ObjectStorage, bucket: str, upload: Upload, max_size_bytes: int,
            local_tz: tzinfo) -> Inspection:
    """Measure, type, read and store one upload. Raises ServiceUnavailable when storage is down."""
    key = _source(storage, bucket, upload)
    if key is None:
        return _reject("integrity", "no uploaded object was found")
    try:
        data, sha256, too_large = _read(storage, bucket, key, max_size_bytes)
    except NotFound:
        return _reject("integrity", "no uploaded object was found")
    if too_large:
        outcome = _reject("integrity", f"the object is larger than the {max_size_bytes} bytes allowed")
    elif len(data) != upload.declared_size or sha256 != upload.declared_sha256:
        outcome = _reject("integrity", f"stored {len(data)} bytes with SHA-256 {sha256}; declared "
                                       f"{upload.declared_size} bytes with SHA-256 {upload.declared_sha256}",
                          size=len(data), sha256=sha256)
    else:
        outcome = _accept(storage, bucket, key, data, sha256, local_tz)
    if upload.staging_key and key == upload.staging_key:
        storage.remove(bucket=bucket, key=key, all_versions=True)
    return outcome


def _accept(storage: ObjectStorage, bucket: str, key: str, data: bytes, sha256: str, local_tz: tzinfo) -> Inspection:
    measured: dict[str, Any] = {"size": len(data), "sha256": sha256}
    photo_type = detect_type(data[:HEAD_BYTES])
    if photo_type is None:
        return _reject("type", "not a JPEG, PNG, HEIC or WebP photo (by its content)", **measured)
    derived = {variant: derived_key(sha256, variant) for variant in VARIANTS}
    missing = any(storage.stat(bucket=bucket, key=k) is None for k in derived.values())
    try:
        # One decode for facts and derived images; the same bytes seen before have theirs already.
        inspected = inspect_photo(data, local_tz=local_tz) if missing else None
        facts = inspected.facts if inspected else read_facts(data, local_tz=local_tz)
    except UnreadablePhoto as exc:
        return _reject("type", f"the {photo_type} photo cannot be read: {exc}", detected_type=str(photo_type),
                       **measured)
    for variant, jpeg in (inspected.variants if inspected else {}).items():
        storage.put_bytes(bucket=bucket, key=derived[variant], data=jpeg, content_type=JPEG)
    original = original_key(sha256)
    if key != original and storage.stat(bucket=bucket, key=original) is None:
        # Written from the bytes just measured (not a server-side copy, which would read them again),
        # with their type and SHA-256 in the object's metadata.
        storage.put_bytes(bucket=bucket, key=original, data=data, content_type=photo_type.content_type)
    return Inspection(detected_type=str(photo_type), exif=facts.as_json(), original_key=original,
                      derived_keys=derived, **measured)
