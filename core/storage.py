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

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from core.errors import NotFound, ServiceUnavailable
from core.settings import S3Settings


class ObjectStorage:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        # Short timeouts and few retries: a dead S3 must produce a prompt 503, not a hung request.
        http = urllib3.PoolManager(
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

    @contextmanager
    def _faults(self, what: str) -> Iterator[None]:
        try:
            yield
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchBucket"}:
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
