"""Port choice: a port some other program listens on is never handed to a service, a remembered port
is kept while free, and .gw/ports.env keeps the layout tools and tests read."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import redis, secrets
from devstack.layout import Layout
from devstack.ports import LOOPBACK, Ports, WeedPorts, choose, next_free, port_free, start_on_free_port
from tests.ops.services import read_env_file


@pytest.fixture
def listening() -> Iterator[int]:
    """A port another program listens on, as another checkout's PostgreSQL would."""
    with socket.socket() as server:
        server.bind((LOOPBACK, 0))
        server.listen()
        yield server.getsockname()[1]


def free_block(count: int) -> int:
    """A base port whose `count` successors are free right now (found by the code under test's rival:
    the kernel's own choice of an ephemeral port, then checked)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((LOOPBACK, 0))
            base = probe.getsockname()[1]
        if base + count < 65535 and all(port_free(base + i) for i in range(count)):
            return base
    raise AssertionError("no free block of ports on this machine")


def test_a_port_with_a_listener_is_not_free_and_the_search_skips_it(listening: int) -> None:
    assert not port_free(listening)
    assert next_free(listening) > listening


def test_a_remembered_port_is_kept_while_free_and_moved_when_taken(listening: int,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    free = free_block(1)

    assert choose(free, default=listening, label="postgres") == free
    moved = choose(listening, default=listening, label="postgres")

    assert moved != listening and port_free(moved)
    assert f"port {listening} is taken, using {moved}" in capsys.readouterr().err


def test_seaweedfs_gets_eight_free_consecutive_ports_skipping_a_block_with_one_taken() -> None:
    base = free_block(20)
    with socket.socket() as server:
        server.bind((LOOPBACK, base + 5))  # the volume gRPC port of the first block
        server.listen()

        chosen = choose(None, default=base, label="s3", step=10, count=8)

    assert chosen == base + 10
    assert WeedPorts.from_base(chosen) == WeedPorts(s3=chosen, master=chosen + 1, volume=chosen + 2,
                                                    filer=chosen + 3, master_grpc=chosen + 4, volume_grpc=chosen + 5,
                                                    filer_grpc=chosen + 6, s3_grpc=chosen + 7)


def test_ports_file_round_trips_and_lists_every_seaweedfs_port(tmp_path: Path) -> None:
    path = tmp_path / "ports.env"
    Ports(pg=55432, redis=56379, s3=58333).save(path)

    assert Ports.load(path) == Ports(pg=55432, redis=56379, s3=58333)
    assert read_env_file(path) == {
        "GW_PG_PORT": "55432", "GW_REDIS_PORT": "56379", "GW_S3_PORT": "58333", "GW_S3_MASTER_PORT": "58334",
        "GW_S3_VOLUME_PORT": "58335", "GW_S3_FILER_PORT": "58336", "GW_S3_MASTER_GRPC_PORT": "58337",
        "GW_S3_VOLUME_GRPC_PORT": "58338", "GW_S3_FILER_GRPC_PORT": "58339", "GW_S3_S3_GRPC_PORT": "58340"}


def test_a_missing_or_partial_ports_file_means_not_chosen_yet(tmp_path: Path) -> None:
    assert Ports.load(tmp_path / "absent.env") == Ports()
    (tmp_path / "ports.env").write_text("GW_PG_PORT=55433\nGW_REDIS_PORT=\n")
    assert Ports.load(tmp_path / "ports.env") == Ports(pg=55433)


def test_a_port_taken_between_the_check_and_the_bind_moves_the_server_to_the_next_free_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The defaults lie in Linux's ephemeral range: an outgoing connection may take one at any moment."""
    base = free_block(10)
    rival = socket.socket()
    started: list[socket.socket] = []

    def start(port: int) -> bool:
        if port == base:  # another program gets the port after the check
            rival.bind((LOOPBACK, port))
            rival.listen()
        server = socket.socket()
        try:
            server.bind((LOOPBACK, port))
        except OSError:
            server.close()
            return False
        server.listen()
        started.append(server)
        return True

    try:
        port = start_on_free_port(start, current=base, default=base, label="redis")
        assert port > base and [s.getsockname()[1] for s in started] == [port]
    finally:
        for sock in [rival, *started]:
            sock.close()
    assert f"port {base} (or one after it) was taken while starting" in capsys.readouterr().err


def test_redis_reports_a_taken_port_as_such_so_the_next_one_is_tried(tmp_path: Path, listening: int) -> None:
    layout = Layout(tmp_path)
    layout.prepare()

    assert redis.start(layout, listening, secrets.generate("REDIS_PASSWORD")) is False
    assert redis.pid(layout) is None
