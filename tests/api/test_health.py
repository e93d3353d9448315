"""The health endpoint tells load balancers, and anyone else, whether each backing service is up; only
administrators learn more (server versions, worker counts, why a component is down), because those
details tell an attacker which known vulnerabilities to try."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from core.permissions import Role
from core.settings import S3Settings, Settings

COMPONENTS = {"database", "redis", "s3", "workers"}


def test_anonymous_callers_learn_only_up_or_down(client: TestClient, app_engine: Engine,
                                                 celery_worker: subprocess.Popen[bytes]) -> None:
    with app_engine.connect() as conn:
        server_version = conn.execute(text("SHOW server_version")).scalar_one()
        postgis_version = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()

    response = client.get("/api/v1/health")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "down": [],
                               "components": {name: {"ok": True} for name in COMPONENTS}}
    assert server_version not in response.text and postgis_version not in response.text


def test_anonymous_callers_are_told_which_component_is_down_but_not_why(
        settings: Settings, celery_worker: subprocess.Popen[bytes]) -> None:
    broken = settings.model_copy(update={"s3": S3Settings(endpoint="127.0.0.1:9")})  # nothing listens on port 9
    with TestClient(create_app(broken)) as client:
        response = client.get("/api/v1/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["down"] == ["s3"]
    assert body["components"]["s3"] == {"ok": False}
    assert body["components"]["database"] == {"ok": True}


def test_administrators_get_versions_and_worker_counts(client: TestClient, auth: Callable[[Role], dict[str, str]],
                                                       celery_worker: subprocess.Popen[bytes]) -> None:
    response = client.get("/api/v1/health/details", headers=auth(Role.admin))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["components"]) == COMPONENTS
    assert body["components"]["database"]["postgis_version"].startswith("3.")
    assert body["components"]["database"]["postgresql_version"][:2].isdigit()
    assert int(body["components"]["workers"]["workers"]) >= 1


def test_administrators_are_told_why_a_component_is_down(settings: Settings, auth: Callable[[Role], dict[str, str]],
                                                         celery_worker: subprocess.Popen[bytes]) -> None:
    broken = settings.model_copy(update={"s3": S3Settings(endpoint="127.0.0.1:9")})
    with TestClient(create_app(broken)) as client:
        response = client.get("/api/v1/health/details", headers=auth(Role.admin))

    assert response.status_code == 503
    assert response.json()["down"] == ["s3"]
    assert response.json()["components"]["s3"]["detail"].startswith("down (")


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.admin])
def test_the_details_are_refused_to_every_other_role(client: TestClient, auth: Callable[[Role], dict[str, str]],
                                                     role: Role) -> None:
    assert client.get("/api/v1/health/details", headers=auth(role)).status_code == 403


def test_the_details_are_refused_to_anonymous_callers(client: TestClient) -> None:
    response = client.get("/api/v1/health/details")

    assert response.status_code == 401
    assert "version" not in response.text
