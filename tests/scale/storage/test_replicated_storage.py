"""Object storage keeps every object through the loss of a volume server.

The cluster is the scale set-up's (`devstack/seaweed_cluster.py`): one master, two volume servers, a
filer and the S3 gateway, each volume kept on both servers (`-defaultReplication=001`). Objects go in
and come out through the application's own storage layer (`core.storage.ObjectStorage`), as import
files do. One volume server is then killed (SIGKILL: a lost disk or host).

Writes after the loss are refused, and the application says so with its 503: placement 001 needs two
volume servers for every write and only one is left, so SeaweedFS's master cannot place a new volume
(`ResourceExhausted: no writable volumes`) and the gateway answers 500 after its 30 s assignment
deadline; `ObjectStorage` turns that into `ServiceUnavailable`. Nothing half-written is reported
as stored. (Writes that survive the loss need a third volume server.)
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import ServiceUnavailable
from core.settings import Settings
from core.storage import ObjectStorage
from devstack import seaweed_cluster, secrets
from devstack.layout import Layout
from devstack.seaweed_cluster import Cluster

REPO_ROOT = Path(__file__).resolve().parents[3]
# Import files from a few kB to a few MB (the largest several filer chunks): 1 kB * (i + 1)^3.
OBJECT_COUNT = 12
BASE_SIZE_BYTES = 1000


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    layout = Layout(REPO_ROOT)
    running = seaweed_cluster.ensure_cluster(layout, secrets.read(layout.secrets_file))
    yield running
    seaweed_cluster.stop_cluster(layout, remove=True)


@pytest.fixture(scope="module")
def replicated_storage(settings: Settings, cluster: Cluster) -> ObjectStorage:
    store = ObjectStorage(settings.s3.model_copy(update={"endpoint": cluster.endpoint, "bucket_prefix": "gw-scale-"}))
    store.ensure_buckets()
    return store


def volume_files(cluster: Cluster, index: int) -> set[str]:
    return {path.name for path in (seaweed_cluster.home(cluster.layout) / f"volume{index}").glob("*.dat")}


def test_every_stored_object_is_readable_byte_for_byte_after_a_volume_server_is_killed(
        cluster: Cluster, replicated_storage: ObjectStorage) -> None:
    storage = replicated_storage
    bucket = storage.settings.imports_bucket
    objects = {f"imports/{i:02d}.csv": hashlib.sha256(str(i).encode()).digest() * (BASE_SIZE_BYTES * (i + 1) ** 3 // 32)
               for i in range(OBJECT_COUNT)}
    for key, data in objects.items():
        storage.put_bytes(bucket=bucket, key=key, data=data, content_type="text/csv")
    started = time.monotonic()
    assert all(storage.get_bytes(bucket=bucket, key=key) == data for key, data in objects.items())
    read_both_up_s = time.monotonic() - started
    # Every volume is on both servers.
    assert volume_files(cluster, 1) and volume_files(cluster, 1) == volume_files(cluster, 2)

    cluster.kill_volume_server(1)

    started = time.monotonic()
    for key, data in objects.items():
        assert storage.get_bytes(bucket=bucket, key=key) == data, key
    read_one_down_s = time.monotonic() - started
    total_mb = sum(map(len, objects.values())) / 1e6
    print(f"\nreading {OBJECT_COUNT} objects ({total_mb:.1f} MB): {read_one_down_s * 1000:.0f} ms with one volume "
          f"server killed, {read_both_up_s * 1000:.0f} ms with both up (reference, same run)")

    # A write can no longer be placed on two servers: refused with the application's 503, and not stored.
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        storage.put_bytes(bucket=bucket, key="imports/after-the-loss.csv", data=b"id,name\n1,x\n",
                          content_type="text/csv")
    print(f"a write after the loss: 503 after {time.monotonic() - started:.1f} s")
    assert storage.stat(bucket=bucket, key="imports/after-the-loss.csv") is None
