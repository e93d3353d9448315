"""The configuration files ./gw writes for its services: what each must say for the port's security
(README, "What runs where") and that a changed secret changes what SeaweedFS must run with."""

from __future__ import annotations

import json
import socket
import stat
import tomllib
from pathlib import Path

import pytest

from devstack import postgres, redis, seaweed
from devstack.layout import MAX_SOCKET_DIR_LENGTH, Layout, write_private
from devstack.ports import WeedPorts
from devstack.secrets import NAMES, generate

SECRETS = {name: generate(name) for name in NAMES}


def test_postgres_listens_on_loopback_with_a_private_socket_and_quotes_the_socket_path() -> None:
    conf = postgres.conf_text(port=55432, sockdir=Path("/srv/it's here/run"))

    assert "listen_addresses = '127.0.0.1'\n" in conf and "port = 55432\n" in conf
    assert "unix_socket_directories = '/srv/it''s here/run'\n" in conf
    assert "unix_socket_permissions = 0700\n" in conf
    assert [line.split() for line in postgres.HBA.splitlines() if not line.startswith("#")] == [
        ["local", "all", "postgres", "trust"], ["local", "all", "all", "scram-sha-256"],
        ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"], ["host", "all", "all", "::1/128", "scram-sha-256"]]


def test_redis_binds_loopback_and_requires_the_password(tmp_path: Path) -> None:
    conf = redis.conf_text(Layout(tmp_path), port=56379, password=SECRETS["REDIS_PASSWORD"])

    settings = dict(line.split(" ", 1) for line in conf.splitlines() if line and not line.startswith("#"))
    assert settings["bind"] == "127.0.0.1" and settings["port"] == "56379"
    assert settings["requirepass"] == SECRETS["REDIS_PASSWORD"] and settings["protected-mode"] == "yes"
    assert settings["pidfile"] == str(tmp_path / ".gw" / "run" / "redis.pid")


def test_seaweedfs_security_signs_every_access_and_requires_client_certificates(tmp_path: Path) -> None:
    tls = tmp_path / "tls"

    security = tomllib.loads(seaweed.security_toml(SECRETS, tls))
    s3 = json.loads(seaweed.s3_config(SECRETS))

    assert security["jwt"]["signing"]["key"] == SECRETS["WEED_JWT_WRITE_KEY"]
    assert security["jwt"]["signing"]["read"]["key"] == SECRETS["WEED_JWT_READ_KEY"]
    assert security["jwt"]["filer_signing"]["key"] == SECRETS["WEED_FILER_JWT_WRITE_KEY"]
    assert security["jwt"]["filer_signing"]["read"]["key"] == SECRETS["WEED_FILER_JWT_READ_KEY"]
    assert security["access"]["ui"] is False and security["filer"]["expose_directory_metadata"]["enabled"] is False
    assert security["grpc"]["ca"] == f"{tls}/ca.crt"
    assert {part: security["grpc"][part]["cert"] for part in ("master", "volume", "filer", "s3", "client")} == \
           dict.fromkeys(("master", "volume", "filer", "s3", "client"), f"{tls}/node.crt")
    assert s3["identities"][0]["credentials"] == [{"accessKey": SECRETS["S3_ACCESS_KEY"],
                                                  "secretKey": SECRETS["S3_SECRET_KEY"]}]


def test_a_path_that_would_break_the_toml_is_refused() -> None:
    with pytest.raises(Exception, match="may not contain"):
        seaweed.security_toml(SECRETS, Path('/srv/"quoted"/tls'))


def test_seaweedfs_runs_without_http_apis_on_its_eight_ports(tmp_path: Path) -> None:
    ports = WeedPorts.from_base(58333)

    args = seaweed.arguments(Layout(tmp_path), ports)

    assert "-disableHttp" in args and "-ip.bind=127.0.0.1" in args
    given = {arg.split("=", 1)[1] for arg in args if ".port" in arg and not arg.endswith("=0")}
    assert given == {str(port) for port in range(58333, 58341)}


def test_a_changed_secret_changes_the_fingerprint_seaweedfs_is_restarted_on(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    (layout.weed_home / "tls").mkdir(parents=True)
    (layout.weed_home / "tls" / "node.crt").write_text("certificate")
    ports = WeedPorts.from_base(58333)

    def fingerprint(values: dict[str, str]) -> str:
        write_private(layout.weed_home / "s3.json", seaweed.s3_config(values))
        write_private(layout.weed_home / "security.toml", seaweed.security_toml(values, layout.weed_home / "tls"))
        return seaweed.fingerprint(layout, ports)

    before = fingerprint(SECRETS)
    assert fingerprint(SECRETS) == before
    assert fingerprint({**SECRETS, "WEED_JWT_READ_KEY": generate("WEED_JWT_READ_KEY")}) != before
    assert fingerprint({**SECRETS, "S3_SECRET_KEY": generate("S3_SECRET_KEY")}) != before
    assert stat.S_IMODE((layout.weed_home / "security.toml").stat().st_mode) == 0o600


def test_a_deep_checkout_keeps_its_sockets_in_a_short_private_directory(tmp_path: Path) -> None:
    deep = Layout(tmp_path / ("d" * 100))
    shallow = Layout(Path("/srv/gw"))

    assert shallow.sockdir == Path("/srv/gw/.gw/run")
    assert len(str(deep.sockdir)) <= MAX_SOCKET_DIR_LENGTH and deep.sockdir != Layout(tmp_path).sockdir


def test_weed_sockets_live_vs_dead(tmp_path: Path) -> None:
    """`./gw stop` removes only dead SeaweedFS sockets: weed names its gRPC sockets in /tmp by port only,
    and after this checkout stopped another one may run on the same ports; cutting its live socket
    off broke that checkout's volume server."""
    live, dead = tmp_path / "live.sock", tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(live))
        listener.listen()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:
            gone.bind(str(dead))  # bound, never listening: what a killed server leaves

        assert seaweed.socket_in_use(live)
        assert not seaweed.socket_in_use(dead)
