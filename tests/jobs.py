"""Import jobs as the tests see them: a lines file to import, a job's row as stored, and the command
line (`./gw`'s `python -m gridwarden.cli`) run in this checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 120


def lines_geojson(rows: int, *, prefix: str = "C", kv: float = 10, bad_row: int | None = None) -> bytes:
    """A GeoJSON file of `rows` parallel 10 kV overhead lines `<prefix>-0`.. near 100°E 30°N; the row
    `bad_row` has a voltage that is not a number."""
    features = [{"type": "Feature",
                 "geometry": {"type": "LineString", "coordinates": [[100 + i * 0.001, 30.0], [100 + i * 0.001, 30.01]]},
                 "properties": {"external_id": f"{prefix}-{i}", "construction": "overhead", "nominal_kv": kv,
                                "conductor_spread_m": 1.5}} for i in range(rows)]
    if bad_row is not None:
        features[bad_row]["properties"]["nominal_kv"] = "ten"
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def import_job(engine: Engine, job_id: int) -> dict[str, Any]:
    """The job's row as stored (`import_jobs`), read in a connection of its own."""
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM import_jobs WHERE id = :id"), {"id": job_id}).mappings().one())


def gw(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line with `args`, in this checkout, with the test run's environment plus `env`."""
    return subprocess.run([sys.executable, "-m", "gridwarden.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S, check=False, env={**os.environ, **env})


def queue_geo_import(settings: Settings, headers: dict[str, str], body: bytes) -> int:
    """Upload `body` as a lines import through an API of `settings` (its own queue, say); the job's id."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        queued = client.post("/api/v1/imports/geo", headers=headers, data={"layer": "lines"},
                             files={"file": ("lines.geojson", body, "application/geo+json")})
    assert queued.status_code == 202, queued.text
    return int(queued.json()["id"])
