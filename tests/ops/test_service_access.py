"""Every port `./gw` opens needs this installation's credentials, or serves nothing.

Anyone on the machine can connect to 127.0.0.1. So PostgreSQL must refuse a login without the role's
password (and with the dev passwords this repository once published), Redis must answer NOAUTH, and of
SeaweedFS's eight ports only S3, with the access key, may list, serve or write an object: master,
volume and filer HTTP refuse, and the gRPC ports require a client certificate of the installation's CA.

The ports are found, not assumed: `.gw/ports.env` says what ./gw chose, /proc says what its processes
really listen on, and a port nobody recorded is a failure. Run against external services (GW_DATABASE_URL
etc. set before ./gw), the same refusals are asserted on the configured endpoints.
"""

from __future__ import annotations

import re
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest

from core.settings import Settings
from core.storage import ObjectStorage
from tests.ops.services import (
    GW_DIR,
    REPO_ROOT,
    Endpoint,
    LocalService,
    connectable_by_others,
    endpoint_of,
    grpc_answers_without_client_certificate,
    listening_tcp_ports,
    listening_unix_sockets,
    local_services,
    postgres_login_error,
    redis_reply,
)

# Passwords this repository published as defaults (gw, docker-compose.yml, docker/initdb).
PUBLISHED_PASSWORDS = {"gridwarden_app": "gridwarden_app_dev", "gridwarden_owner": "gridwarden_owner_dev",
                       "postgres": "postgres_dev"}


@pytest.fixture(scope="module")
def services() -> dict[str, LocalService]:
    return local_services()


@pytest.fixture(scope="module")
def database(settings: Settings) -> Endpoint:
    return endpoint_of(settings.database.url.get_secret_value(), 5432)


@pytest.fixture(scope="module")
def cache(settings: Settings) -> Endpoint:
    return endpoint_of(settings.redis.url.get_secret_value(), 6379)


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    data: bytes


@pytest.fixture
def stored_object(storage: ObjectStorage) -> Iterator[StoredObject]:
    """A decision document put through S3 with the installation's keys, removed afterwards."""
    marker = uuid.uuid4().hex
    obj = StoredObject(storage.settings.evidence_bucket, f"decisions/2026/probe-{marker}.pdf",
                       f"%PDF-1.7 confidential decision {marker}".encode())
    storage.put_bytes(bucket=obj.bucket, key=obj.key, data=obj.data, content_type="application/pdf")
    yield obj
    storage.client.remove_object(obj.bucket, obj.key)


def test_each_local_service_listens_only_on_the_ports_gw_recorded(services: dict[str, LocalService],
                                                                  settings: Settings) -> None:
    for service in services.values():
        assert listening_tcp_ports(service.pid) == set(service.ports.values()), service.name
    # What is not run from this checkout is external, and then the configured endpoint is the one in use.
    configured = {"postgres": settings.database.url.get_secret_value(), "redis": settings.redis.url.get_secret_value(),
                  "seaweedfs": f"//{settings.s3.endpoint}"}
    for name, url in configured.items():
        if name not in services:
            assert endpoint_of(url, 0).port not in {p for s in services.values() for p in s.ports.values()}


def test_no_unix_socket_of_a_local_service_accepts_other_users(services: dict[str, LocalService]) -> None:
    """The PostgreSQL socket trusts its superuser and the SeaweedFS ones skip TLS: owner only."""
    sockets = {path for service in services.values() for path in listening_unix_sockets(service.pid)}

    assert [str(path) for path in sockets if connectable_by_others(path)] == []
    if "postgres" in services:
        assert any(path.name.startswith(".s.PGSQL.") for path in sockets)


@pytest.mark.parametrize("user", ["gridwarden_app", "gridwarden_owner", "postgres"])
def test_postgres_refuses_a_login_without_the_password_or_with_the_published_one(
        database: Endpoint, settings: Settings, user: str) -> None:
    dbname = settings.database.url.get_secret_value().rsplit("/", 1)[1].split("?")[0]

    without = postgres_login_error(database, user=user, password=None, dbname=dbname)
    published = postgres_login_error(database, user=user, password=PUBLISHED_PASSWORDS[user], dbname=dbname)

    assert without is not None and "password" in without, without
    assert published is not None and "password authentication failed" in published, published


def test_postgres_accepts_the_configured_role(database: Endpoint, settings: Settings) -> None:
    """The refusals above are the server's, not a closed port."""
    url = settings.database.url.get_secret_value().replace("postgresql+psycopg://", "postgresql://")
    user, password = url.split("//", 1)[1].split("@", 1)[0].split(":", 1)
    dbname = url.rsplit("/", 1)[1].split("?")[0]

    assert postgres_login_error(database, user=user, password=password, dbname=dbname) is None


def test_redis_answers_noauth_without_the_password(cache: Endpoint, settings: Settings) -> None:
    replies = redis_reply(cache, b"PING", b"KEYS *", b"INFO server", b"AUTH gridwarden-dev-secret")

    assert [r.split(b" ")[0] for r in replies[:3]] == [b"-NOAUTH"] * 3
    assert replies[3].startswith(b"-WRONGPASS")
    password = (settings.redis.url.get_secret_value().split("@", 1)[0].rsplit(":", 1)[1]).encode()
    assert redis_reply(cache, b"AUTH " + password, b"PING") == [b"+OK", b"+PONG"]


def assert_s3_refuses_anonymous_access(settings: Settings, obj: StoredObject) -> None:
    base = f"{'https' if settings.s3.secure else 'http'}://{settings.s3.endpoint}"
    with httpx.Client(base_url=base, timeout=10) as anonymous:
        answers = {
            "read": anonymous.get(f"/{obj.bucket}/{obj.key}"),
            "list": anonymous.get(f"/{obj.bucket}", params={"list-type": "2"}),
            "list buckets": anonymous.get("/"),
            "write": anonymous.put(f"/{obj.bucket}/decisions/2026/forged.pdf", content=b"forged"),
            "delete": anonymous.delete(f"/{obj.bucket}/{obj.key}"),
        }

    assert {what: r.status_code for what, r in answers.items()} == {what: 403 for what in answers}
    # (The AccessDenied document echoes the requested path; the object's content must not appear.)
    assert not [what for what, r in answers.items() if obj.data in r.content]


def test_s3_without_credentials_is_refused(settings: Settings, storage: ObjectStorage,
                                           stored_object: StoredObject) -> None:
    assert_s3_refuses_anonymous_access(settings, stored_object)
    assert storage.get_bytes(bucket=stored_object.bucket, key=stored_object.key) == stored_object.data


def _weed_shell(service: LocalService, commands: str) -> str:
    """What `weed shell` answers to `commands`, run in .gw/weed (it reads the installation's
    security.toml there, so it talks gRPC with the installation's certificate, as the S3 gateway does)."""
    ports = service.ports
    shell = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "weed"), "shell", f"-master=127.0.0.1:{ports['master']}.{ports['master gRPC']}",
         f"-filer=127.0.0.1:{ports['filer']}.{ports['filer gRPC']}"],
        input=commands, cwd=GW_DIR / "weed", capture_output=True, text=True, timeout=60, check=False)
    return shell.stdout + shell.stderr


def _file_id(service: LocalService, obj: StoredObject) -> str:
    """The volume file id of `obj`, asked of the filer. In a versioned bucket (the evidence bucket,
    once the evidence worker has turned versioning on) the object's bytes are its current version's,
    kept under `<key>.versions/v_<version id>`."""
    path = f"/buckets/{obj.bucket}/{obj.key}"
    answer = _weed_shell(service, f"fs.meta.cat {path}\n")
    if (match := re.search(r'"fileId":\s*"([0-9]+,[0-9a-f]+)"', answer)) is None:
        versions = re.findall(r"\bv_[0-9a-f]+\b", _weed_shell(service, f"fs.ls {path}.versions/\n"))
        assert len(versions) == 1, answer
        answer = _weed_shell(service, f"fs.meta.cat {path}.versions/{versions[0]}\n")
        match = re.search(r'"fileId":\s*"([0-9]+,[0-9a-f]+)"', answer)
    assert match, answer
    return match.group(1)


def _volume_read_token(fid: str) -> str:
    keys = tomllib.loads((GW_DIR / "weed" / "security.toml").read_text(encoding="utf-8"))
    secret = keys["jwt"]["signing"]["read"]["key"]
    return jwt.encode({"fid": fid, "exp": int(time.time()) + 10}, secret, algorithm="HS256")


def test_seaweedfs_master_volume_and_filer_refuse_to_list_serve_or_write_an_object(
        services: dict[str, LocalService], settings: Settings, storage: ObjectStorage,
        stored_object: StoredObject) -> None:
    weed = services.get("seaweedfs")
    if weed is None:  # external S3 (GW_S3_ENDPOINT): its one port is the configured endpoint
        assert_s3_refuses_anonymous_access(settings, stored_object)
        return
    fid = _file_id(weed, stored_object)
    bucket, key = stored_object.bucket, stored_object.key
    master = f"http://127.0.0.1:{weed.ports['master']}"
    volume = f"http://127.0.0.1:{weed.ports['volume']}"
    filer = f"http://127.0.0.1:{weed.ports['filer']}"
    probes = [
        ("GET", f"{filer}/buckets/{bucket}/{key}"),                  # serve through the filer
        ("GET", f"{filer}/buckets/{bucket}/decisions/2026/"),        # list a folder
        ("GET", f"{filer}/buckets/"),                                # list the buckets
        ("GET", f"{filer}/"),                                        # filer UI
        ("POST", f"{filer}/buckets/{bucket}/decisions/2026/forged.pdf"),
        ("DELETE", f"{filer}/buckets/{bucket}/{key}"),
        ("GET", f"{volume}/{fid}"),                                  # serve straight from the volume
        ("POST", f"{volume}/{fid}"),                                 # overwrite it
        ("DELETE", f"{volume}/{fid}"),
        ("GET", f"{volume}/ui/index.html"),
        ("GET", f"{master}/dir/lookup?fileId={fid}&read=yes"),       # would hand out a read token
        ("GET", f"{master}/dir/assign"),                             # would hand out a write token
        ("GET", f"{master}/{fid}"),                                  # redirect to the volume
        ("GET", f"{master}/dir/status"),
        ("GET", f"{master}/vol/status"),
        ("GET", f"{master}/col/delete?collection={bucket}"),         # drop the bucket's volumes
        ("GET", f"{master}/vol/vacuum"),
    ]
    with httpx.Client(timeout=10, follow_redirects=False) as anonymous:
        answers = {f"{method} {url}": anonymous.request(method, url, files={"file": ("x.pdf", b"forged")}
                                                        if method == "POST" else None) for method, url in probes}
        # The file id is right: with a read token signed by the installation's key the volume serves it.
        signed = anonymous.get(f"{volume}/{fid}", headers={"Authorization": f"Bearer {_volume_read_token(fid)}"})

    granted = {probe: r.status_code for probe, r in answers.items() if r.status_code < 400}
    leaked = [probe for probe, r in answers.items()
              if stored_object.data in r.content or key.encode() in r.content or "authorization" in r.headers]
    assert granted == {}
    assert leaked == []
    assert signed.status_code == 200 and signed.content == stored_object.data
    assert storage.get_bytes(bucket=bucket, key=key) == stored_object.data  # nothing was deleted


def test_seaweedfs_grpc_ports_require_the_installations_client_certificate(
        services: dict[str, LocalService], settings: Settings, stored_object: StoredObject) -> None:
    """Filer gRPC lists, creates and deletes any entry; master gRPC hands out volume tokens."""
    weed = services.get("seaweedfs")
    if weed is None:  # external S3 (GW_S3_ENDPOINT): its one port is the configured endpoint
        assert_s3_refuses_anonymous_access(settings, stored_object)
        return

    answered = {name: grpc_answers_without_client_certificate(port) for name, port in weed.grpc_ports.items()}

    assert {name: what for name, what in answered.items() if what is not None} == {}
    assert len(answered) == 4
