"""Pull benchmark on the full SimBench network: an inspector with ~20 tasks spread over the network
pulls for the first time (a full snapshot, every page) through a real uvicorn server. Printed: the
snapshot's size (bytes, items per type, pages) and time; beside it, interleaved in the same run, the
reference: the bare scope SQL alone (`inspections.sync.scope`, what finding the scope costs before
any diffing, paging or JSON). Then a second pull with nothing changed. Run with `./gw bench sync_pull`.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text

from bench.common import api_client, bench_user, percentile, report, timed, truncate_data
from core.context import Actor
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from gis.imports.simbench import default_source_dir, import_simbench
from gridwarden.domains import installed
from inspections.models import ChecklistTemplate, ChecklistVersion, FieldTask
from inspections.sync.scope import ScopeParams, current_scope
from inspections.sync.settings import sync_settings

TASKS = 20
RUNS = 9


def _create_tasks(engine: Engine, inspector_id: int, rng: random.Random) -> None:
    """~20 tasks at transformers and on lines picked at random over the whole network."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        transformers = list(conn.execute(text("SELECT id, ST_AsEWKT(geom) FROM transformers")))
        lines = list(conn.execute(text("SELECT id, ST_AsEWKT(ST_LineInterpolatePoint(geom, 0.5)) FROM lines "
                                       "WHERE deleted_at IS NULL")))
    with unit_of_work(create_session_factory(engine)) as db:
        template = ChecklistTemplate(code="bench-patrol", name="Bench patrol", task_type="line_patrol")
        db.add(template)
        db.flush()
        version = ChecklistVersion(template_id=template.id, version=1, created_by="bench",
                                   items=[{"key": "ok", "label": "OK", "answer_type": "yes_no", "required": True}])
        db.add(version)
        db.flush()
        picks = ([("transformer", row) for row in rng.sample(transformers, TASKS // 2)]
                 + [("line", row) for row in rng.sample(lines, TASKS - TASKS // 2)])
        for kind, (asset_id, ewkt) in picks:
            db.add(FieldTask(task_type="transformer_inspection" if kind == "transformer" else "line_patrol",
                             state="assigned", title=f"{kind} {asset_id}", asset_type=kind, asset_id=asset_id,
                             location=ewkt, due_from=now, due_until=now + timedelta(days=7),
                             assignee_id=inspector_id, checklist_version_id=version.id))


def _full_pull(client: httpx.Client) -> tuple[int, int, Counter[str], str]:
    """Every page of a first pull: bytes, pages, items per type, the cursor to keep."""
    size, pages, counts, cursor = 0, 0, Counter[str](), None
    while True:
        response = client.get("/sync/pull", params={"cursor": cursor} if cursor else None)
        response.raise_for_status()
        size, pages = size + len(response.content), pages + 1
        body = response.json()
        counts.update(item["entity_type"] for item in body["items"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return size, pages, counts, cursor


def main() -> None:
    installed().metadata()  # every mapped table, so the task model's foreign keys resolve
    settings = Settings()
    engine = create_db_engine(settings.database)
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"database {engine.url.database}")
    owner = create_engine(settings.database.migration_url)
    truncate_data(owner)
    owner.dispose()
    started = time.perf_counter()
    import_simbench(engine=engine, source_dir=default_source_dir(), subnet=None, actor=Actor.system("bench"))
    print(f"full SimBench import: {time.perf_counter() - started:.1f} s")
    actor, headers = bench_user(settings, engine, Role.inspector)
    _create_tasks(engine, actor.user_id or 0, random.Random(42))
    with unit_of_work(create_session_factory(engine)) as db:
        db.execute(text("ANALYZE"))
    sync = sync_settings(settings)
    print(f"{TASKS} tasks of one inspector spread over the network; pull radius {sync.pull_radius_m:g} m, "
          f"page size {sync.pull_default_page_size}")
    factory = create_session_factory(engine)

    def scope_sql() -> int:
        with factory() as db:
            return len(current_scope(db=db, settings=sync, params=ScopeParams.of(
                user_id=actor.user_id or 0, now=datetime.now(UTC), settings=sync)))

    with api_client(headers, timeout=120) as client:
        registered = client.post("/devices", json={"device_id": "bench-phone", "platform": "android"})
        registered.raise_for_status()
        client.headers["Authorization"] = f"Bearer {registered.json()['access_token']}"
        pull_ms: list[float] = []
        scope_ms: list[float] = []
        results: list[tuple[int, int, Counter[str], str]] = []
        scope_rows = 0
        for run in range(RUNS):  # interleaved, alternating which goes first
            if run % 2:
                scope_rows, ms = timed(scope_sql)
                scope_ms.append(ms)
            result, ms = timed(partial(_full_pull, client))
            pull_ms.append(ms)
            results.append(result)
            if not run % 2:
                scope_rows, ms = timed(scope_sql)
                scope_ms.append(ms)
        size, pages, counts, cursor = results[-1]
        total = sum(counts.values())
        assert total == scope_rows, f"the snapshot holds exactly the scope ({total} items, scope {scope_rows})"
        per_type = ", ".join(f"{name} {count}" for name, count in counts.most_common())
        report("first pull (full snapshot, every page, API)", pull_ms,
               f"| {total} items in {pages} page(s), {size / 1024:.0f} KiB ({size / max(total, 1):.0f} B/item)")
        print(f"{'':<44} items per type: {per_type}")
        report("  reference: the bare scope SQL alone", scope_ms,
               f"| {scope_rows} rows; pull/scope p50 {percentile(pull_ms, 0.5) / percentile(scope_ms, 0.5):.1f}x")
        unchanged: list[float] = []
        for _ in range(RUNS):
            response: Any
            response, ms = timed(partial(client.get, "/sync/pull", params={"cursor": cursor}))
            response.raise_for_status()
            assert response.json()["items"] == [], "nothing changed, nothing sent"
            cursor = response.json()["cursor"]
            unchanged.append(ms)
        report("next pull, nothing changed (API)", unchanged, f"| {len(response.content)} B")
    engine.dispose()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
