"""`./gw stop` stops the whole replicated SeaweedFS, even a process whose pid file was lost.

A start that failed half-way on a loaded machine, then ran again, can leave a cluster process that no
pid file names; it would hold its port and its volume directory until someone killed it by hand. Every
process of the cluster runs in the cluster's home directory, and stopping finds them there too.
"""

from __future__ import annotations

import socket
from pathlib import Path

from devstack import seaweed_cluster, secrets
from devstack.layout import Layout
from devstack.ports import LOOPBACK

REPO_ROOT = Path(__file__).resolve().parents[3]


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((LOOPBACK, port)) == 0


def test_stopping_the_cluster_stops_a_process_whose_pid_file_was_lost() -> None:
    layout = Layout(REPO_ROOT)
    cluster = seaweed_cluster.ensure_cluster(layout, secrets.read(layout.secrets_file))
    try:
        assert _answers(cluster.ports.s3) and _answers(cluster.ports.volumes[0])
        (layout.run / "weed-cluster-s3.pid").unlink()  # the S3 gateway is now named by no pid file
        (layout.run / "weed-cluster-volume1.pid").write_text("1\n", encoding="utf-8")  # and this one names another

        seaweed_cluster.stop_cluster(layout)

        assert not _answers(cluster.ports.s3), "the S3 gateway stopped"
        assert not _answers(cluster.ports.volumes[0]), "the first volume server stopped"
        assert not any(_answers(port) for port in (cluster.ports.master, cluster.ports.filer, *cluster.ports.volumes))
    finally:
        seaweed_cluster.stop_cluster(layout, remove=True)
