"""The S3 client. The app only speaks the S3 API, so MinIO, SeaweedFS or AWS all work unchanged.

Every storage fault surfaces as `ServiceUnavailable` (HTTP 503 with Retry-After): the caller's
request was not applied and can be retried; nothing is half-written because objects are put before
the database row that references them is committed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Part
from minio.error import MinioException, S3Error
from minio.versioningconfig import ENABLED, VersioningConfig

from core.errors import NotFound, ServiceUnavailable
from core.settings import S3Settings


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str
    content_type: str | None


@dataclass(frozen=True)
class UploadedPart:
    part_number: int
    size: int
    etag: str


@dataclass(frozen=True)
class OpenUpload:
    """A multipart upload begun and neither completed nor aborted."""

    key: str
    upload_id: str
    initiated_at: datetime | None


STREAM_CHUNK_BYTES = 1024 * 1024


class ObjectStorage:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        # Short timeouts and few retries: a dead S3 must produce a prompt 503, not a hung request.
        # One pool of `pool_size` connections per host: the default of one made concurrent requests
        # (the API's thread pool, a worker's threads) open and drop a connection each time.
        http = urllib3.PoolManager(
            maxsize=settings.pool_size,
            timeout=urllib3.Timeout(connect=3, read=30),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            region=settings.region,
            http_client=http,
        )
        # Presigned URLs are signed locally (the region is given, so no request is made) for the
        # address devices reach, which may differ from the one the app uses.
        self.presigner = Minio(
            settings.device_endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.device_secure,
            region=settings.region,
        )

    @contextmanager
    def _faults(self, what: str) -> Iterator[None]:
        try:
            yield
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchBucket", "NoSuchUpload"}:
                raise NotFound(f"{what}: object not found.") from exc
            raise ServiceUnavailable(f"Object storage refused {what} ({exc.code}).", service="s3") from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise ServiceUnavailable(f"Object storage is not reachable ({what}); retry shortly.",
                                     service="s3") from exc

    def buckets(self) -> list[str]:
        return [self.settings.imports_bucket, self.settings.evidence_bucket]

    def ensure_buckets(self) -> list[str]:
        created = []
        with self._faults("creating buckets"):
            for bucket in self.buckets():
                if not self.client.bucket_exists(bucket):
                    self.client.make_bucket(bucket)
                    created.append(bucket)
        return created

    def ping(self) -> None:
        with self._faults("health check"):
            self.client.bucket_exists(self.settings.imports_bucket)

    def put_bytes(self, *, bucket: str, key: str, data: bytes, content_type: str) -> str:
        """Store `data` and return its SHA-256, recorded by callers as the object's fingerprint."""
        digest = hashlib.sha256(data).hexdigest()
        with self._faults(f"storing {key}"):
            self.client.put_object(bucket, key, io.BytesIO(data), length=len(data), content_type=content_type,
                                   metadata={"sha256": digest})
        return digest

    def get_bytes(self, *, bucket: str, key: str) -> bytes:
        with self._faults(f"reading {key}"):
            response = self.client.get_object(bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    # --- what photo evidence needs: direct uploads by devices, streaming reads, server-side copies ---

    def enable_versioning(self, bucket: str) -> bool:
        """Turn bucket versioning on where the server supports it (False where it does not)."""
        try:
            with self._faults(f"versioning {bucket}"):
                self.client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
        except ServiceUnavailable as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code in {"NotImplemented", "MethodNotAllowed"}:
                return False
            raise
        return True

    def presigned_put(self, *, bucket: str, key: str, expires: timedelta) -> str:
        return self.presigner.get_presigned_url("PUT", bucket, key, expires=expires)

    def presigned_get(self, *, bucket: str, key: str, expires: timedelta, content_type: str | None = None,
                      file_name: str | None = None) -> str:
        headers: dict[str, str | list[str] | tuple[str]] = {}
        if content_type:
            headers["response-content-type"] = content_type
        if file_name:
            headers["response-content-disposition"] = f'inline; filename="{file_name}"'
        return self.presigner.get_presigned_url("GET", bucket, key, expires=expires, response_headers=headers or None)

    def start_multipart(self, *, bucket: str, key: str, content_type: str) -> str:
        """Begin a multipart upload and return its id (this does reach the server)."""
        with self._faults(f"starting an upload of {key}"):
            return str(self.client._create_multipart_upload(bucket, key, {"Content-Type": content_type}))

    def presigned_part(self, *, bucket: str, key: str, upload_id: str, part_number: int, expires: timedelta) -> str:
        return self.presigner.get_presigned_url("PUT", bucket, key, expires=expires,
                                                extra_query_params={"uploadId": upload_id,
                                                                    "partNumber": str(part_number)})

    def uploaded_parts(self, *, bucket: str, key: str, upload_id: str) -> list[UploadedPart]:
        """The parts of a multipart upload that have arrived, in part order (NotFound: no such upload)."""
        found: list[UploadedPart] = []
        marker = 0
        with self._faults(f"listing the parts of {key}"):
            while True:
                result = self.client._list_parts(bucket, key, upload_id, part_number_marker=str(marker))
                found.extend(UploadedPart(part_number=p.part_number, size=p.size or 0, etag=p.etag) for p in result.parts)
                if not result.is_truncated or not result.parts:
                    break
                marker = result.parts[-1].part_number
        return sorted(found, key=lambda p: p.part_number)

    def complete_multipart(self, *, bucket: str, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        with self._faults(f"completing the upload of {key}"):
            self.client._complete_multipart_upload(bucket, key, upload_id,
                                                   [Part(p.part_number, p.etag) for p in parts])

    def abort_multipart(self, *, bucket: str, key: str, upload_id: str) -> None:
        with self._faults(f"aborting the upload of {key}"):
            self.client._abort_multipart_upload(bucket, key, upload_id)

    def open_uploads(self, *, bucket: str, prefix: str) -> list[OpenUpload]:
        """Multipart uploads under `prefix` never completed nor aborted (for the clean-up job)."""
        found: list[OpenUpload] = []
        key_marker: str | None = None
        upload_marker: str | None = None
        with self._faults("listing open uploads"):
            while True:
                result = self.client._list_multipart_uploads(bucket, prefix=prefix, key_marker=key_marker,
                                                             upload_id_marker=upload_marker)
                found.extend(OpenUpload(key=u.object_name, upload_id=u.upload_id or "", initiated_at=u.initiated_time)
                             for u in result.uploads)
                if not result.is_truncated or not result.uploads:
                    break
                key_marker, upload_marker = result.next_key_marker, result.next_upload_id_marker
        return found

    def stat(self, *, bucket: str, key: str) -> StoredObject | None:
        """The object's size and type, or None when there is none under `key`."""
        try:
            with self._faults(f"looking up {key}"):
                info = self.client.stat_object(bucket, key)
        except NotFound:
            return None
        return StoredObject(key=key, size=info.size or 0, etag=info.etag or "", content_type=info.content_type)

    @contextmanager
    def stream(self, *, bucket: str, key: str, chunk_bytes: int = STREAM_CHUNK_BYTES) -> Iterator[Iterator[bytes]]:
        """The object's bytes in chunks, never all in memory (hashing a 40 MB photo streams it)."""
        with self._faults(f"reading {key}"):
            response = self.client.get_object(bucket, key)
            try:
                yield response.stream(chunk_bytes)
            finally:
                response.close()
                response.release_conn()

    def copy(self, *, bucket: str, source_key: str, key: str) -> None:
        """Server-side copy (the bytes do not pass through the app)."""
        with self._faults(f"copying {source_key}"):
            self.client.copy_object(bucket, key, CopySource(bucket, source_key))

    def remove(self, *, bucket: str, key: str, all_versions: bool = False) -> None:
        """Remove an object; with `all_versions`, every stored version of it (a deletion that must
        not leave the bytes behind in a versioned bucket)."""
        with self._faults(f"removing {key}"):
            if not all_versions:
                self.client.remove_object(bucket, key)
                return
            for version in self.client.list_objects(bucket, prefix=key, include_version=True):
                if version.object_name == key:
                    self.client.remove_object(bucket, key, version_id=version.version_id)
