"""The health endpoint tells operators, and load balancers, whether every backing service is up."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import S3Settings, Settings


def test_all_components_up_gives_200_with_postgis_version(client: TestClient,
                                                         celery_worker: subprocess.Popen[bytes]) -> None:
    response = client.get("/api/v1/health")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["components"]["database"]["postgis_version"].startswith("3.")
    assert body["components"]["workers"]["ok"] is True
    assert set(body["components"]) == {"database", "redis", "s3", "workers"}


def test_unreachable_s3_gives_503_naming_it(settings: Settings, celery_worker: subprocess.Popen[bytes]) -> None:
    broken = settings.model_copy(update={"s3": S3Settings(endpoint="127.0.0.1:9")})  # nothing listens on port 9
    with TestClient(create_app(broken)) as client:
        response = client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json()["down"] == ["s3"]
