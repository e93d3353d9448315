"""Object storage keeps every object, and keeps taking new ones, through the loss of a volume server.

The cluster is the scale set-up's (`devstack/seaweed_cluster.py`): one master, three volume servers, a
filer and the S3 gateway, each volume kept on two of the servers (`-defaultReplication=001`). Objects go
in and come out through the application's own storage layer (`core.storage.ObjectStorage`), as import
files and photos do. The volume server holding the most volumes is then killed (SIGKILL: a lost disk or
host): every object still reads back, and new writes go on, each stored on the two servers left, so a
second loss still loses none of them.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from core.storage import ObjectStorage
from devstack import seaweed_cluster, secrets
from devstack.layout import Layout
from devstack.seaweed_cluster import Cluster

REPO_ROOT = Path(__file__).resolve().parents[3]
# Import files from a few kB to a few MB (the largest several filer chunks): 1 kB * (i + 1)^3.
OBJECT_COUNT = 12
BASE_SIZE_BYTES = 1000
WRITES_AFTER_LOSS = 8


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
    # Every volume is on two servers.
    servers = range(1, seaweed_cluster.VOLUME_SERVERS + 1)
    copies = Counter(volume for index in servers for volume in volume_files(cluster, index))
    assert copies and set(copies.values()) == {2}, copies

    victim = max(servers, key=lambda index: len(volume_files(cluster, index)))
    survivors = [index for index in servers if index != victim]
    cluster.kill_volume_server(victim)

    started = time.monotonic()
    for key, data in objects.items():
        assert storage.get_bytes(bucket=bucket, key=key) == data, key
    read_one_down_s = time.monotonic() - started
    total_mb = sum(map(len, objects.values())) / 1e6
    print(f"\nreading {OBJECT_COUNT} objects ({total_mb:.1f} MB): {read_one_down_s * 1000:.0f} ms with one volume "
          f"server killed, {read_both_up_s * 1000:.0f} ms with all up (reference, same run)")

    # Writes go on: the master places them on volumes whose two copies are both on live servers.
    written = {f"imports/after-the-loss-{i}.csv": hashlib.sha256(f"after {i}".encode()).digest() * (BASE_SIZE_BYTES * (i + 1))
               for i in range(WRITES_AFTER_LOSS)}
    started = time.monotonic()
    for key, data in written.items():
        storage.put_bytes(bucket=bucket, key=key, data=data, content_type="text/csv")
    write_one_down_s = time.monotonic() - started
    print(f"writing {WRITES_AFTER_LOSS} objects with a volume server killed: {write_one_down_s * 1000:.0f} ms")
    assert all(storage.get_bytes(bucket=bucket, key=key) == data for key, data in written.items())

    # Each was stored twice, on the two servers left: losing one of those as well loses none of them.
    cluster.kill_volume_server(survivors[0])
    for key, data in written.items():
        assert storage.get_bytes(bucket=bucket, key=key) == data, key
