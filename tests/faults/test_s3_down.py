"""Object storage goes down while completed uploads wait for verification: the worker's attempts
fail and are retried with backoff (each recorded on the evidence, naming storage), and once the
server is back on the same data the evidence is verified with its original readable. Nothing is lost.

The S3 server here is a throw-away SeaweedFS of this test alone (data in tmp_path, free ports, no
TLS or JWT: it listens on 127.0.0.1 only), so stopping it never disturbs the session's own S3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from celery import Celery
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ServiceUnavailable
from core.permissions import Role
from core.settings import Settings
from core.storage import ObjectStorage
from media.models import EvidenceState
from tests.faults.conftest import REPO_ROOT, WorkerProcess, free_port, wait_for
from tests.media.evidence_helpers import create_line_task, photo_near_line, stage, wait_for_row

ACCESS_KEY, SECRET_KEY = "faults-access", "faults-secret-key-0123456789"
STOP_TIMEOUT_S = 5
RETRY_MAX_S = 2  # the worker's longest wait between attempts here, so the test sees several quickly


class ThrowAwaySeaweed:
    """`weed server` with master, volume, filer and S3 on free ports and a data directory of its own;
    stopped and started again on the same directory and ports, like a storage server restarted."""

    def __init__(self, home: Path) -> None:
        self.home = home
        (home / "data").mkdir(parents=True)
        (home / "s3.json").write_text(json.dumps({"identities": [{
            "name": "faults", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}), encoding="utf-8")
        self.ports = {name: free_port() for name in ("s3", "s3_grpc", "master", "master_grpc", "volume",
                                                      "volume_grpc", "filer", "filer_grpc")}
        self.endpoint = f"127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen[bytes] | None = None

    def arguments(self) -> list[str]:
        p = self.ports
        return ["server", f"-dir={self.home / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
                "-master.volumeSizeLimitMB=64", "-master.electionTimeout=1s", "-master.telemetry=false",
                f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}", "-volume.max=0",
                "-volume.preStopSeconds=0", "-filer", f"-filer.port={p['filer']}",
                f"-filer.port.grpc={p['filer_grpc']}", "-s3", f"-s3.port={p['s3']}",
                f"-s3.port.grpc={p['s3_grpc']}", f"-s3.config={self.home / 's3.json'}", "-s3.port.iceberg=0",
                "-s3.port.lance=0"]

    def start(self, storage: ObjectStorage) -> None:
        with (self.home / "weed.log").open("ab") as log:
            self.process = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "weed"), *self.arguments()],
                                            cwd=self.home, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

        def buckets_ready() -> bool | None:
            assert self.process is not None and self.process.poll() is None, self.log_tail()
            try:
                storage.ensure_buckets()
            except ServiceUnavailable:
                return None
            return True

        wait_for("the throw-away SeaweedFS to serve S3", buckets_ready, timeout_s=90, interval_s=0.5)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join((self.home / "weed.log").read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def seaweed(tmp_path: Path) -> Iterator[ThrowAwaySeaweed]:
    server = ThrowAwaySeaweed(tmp_path / "weed")
    yield server
    server.stop()


def test_verification_waits_out_a_storage_outage_and_loses_nothing(
        seaweed: ThrowAwaySeaweed, settings: Settings, session_factory: sessionmaker[Session],
        role_users: dict[Role, int], start_worker: Callable[..., WorkerProcess], queue_celery: Celery) -> None:
    s3 = settings.s3.model_copy(update={"endpoint": seaweed.endpoint, "access_key": ACCESS_KEY,
                                        "secret_key": SecretStr(SECRET_KEY), "public_endpoint": None})
    storage, local = ObjectStorage(s3), settings.model_copy(update={"s3": s3})
    seaweed.start(storage)
    now = datetime.now(UTC)
    task_id, task_uuid = create_line_task(session_factory, now)
    staged = stage(session_factory, storage, local, photo_near_line(now), kind="task", ref=task_uuid,
                   record_id=task_id, uploaded_by=role_users[Role.dispatcher])

    seaweed.stop()
    start_worker("s3-down", GW_S3_ENDPOINT=seaweed.endpoint, GW_S3_ACCESS_KEY=ACCESS_KEY,
                 GW_S3_SECRET_KEY=SECRET_KEY, GW_EVIDENCE_VERIFY_RETRY_MAX_SECONDS=str(RETRY_MAX_S))
    queue_celery.send_task("media.verify", args=[staged.evidence_id, None])
    failing = wait_for_row(session_factory, staged.evidence_id, timeout_s=60,
                           until=lambda e: e.verify_attempts >= 3 and e.last_error is not None)
    assert failing.state == EvidenceState.pending
    assert "storage" in (failing.last_error or "")

    seaweed.start(storage)

    done = wait_for_row(session_factory, staged.evidence_id, timeout_s=90, until=lambda e: e.state != "pending")
    assert (done.state, done.last_error) == (EvidenceState.verified, None)
    assert storage.get_bytes(bucket=s3.evidence_bucket, key=done.original_key or "") == staged.data
