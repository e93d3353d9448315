"""How the application is composed: core knows no domain, each domain declares what it brings in
its `domain.py`, and the composition roots take everything from the installed list. Adding a
domain is one package plus one line in `gridwarden/domains.py`."""

from __future__ import annotations

import argparse
import ast
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.celery_app import create_celery
from core.cli import build_parser
from core.permissions import Role
from core.registry import load_domains
from core.settings import Settings
from gridwarden.domains import INSTALLED, installed

ROOT = Path(__file__).resolve().parents[2]


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return {name.split(".")[0] for name in names}


def test_core_imports_no_domain_nor_the_edge() -> None:
    outside = {package.split(".")[0] for package in INSTALLED} | {"api", "gridwarden", "media", "inspections",
                                                                   "routing", "bench", "devstack"}
    offenders = {str(path.relative_to(ROOT)): sorted(_imported_packages(path) & outside)
                 for path in (ROOT / "core").rglob("*.py") if _imported_packages(path) & outside}
    assert offenders == {}


def test_every_api_route_comes_from_core_or_an_installed_domain(settings: Settings) -> None:
    declared = {id(router) for router in installed().routers()}
    assert len(declared) == sum(len(domain.routers) for domain in installed())
    paths = set(create_app(settings).openapi()["paths"])
    for expected in ("/api/v1/network/lines", "/api/v1/customers", "/api/v1/zones", "/api/v1/screenings",
                     "/api/v1/cases", "/api/v1/imports/geo", "/api/v1/rule-sets", "/api/v1/calendars/{code}",
                     "/api/v1/auth/token", "/api/v1/health", "/api/v1/roads"):
        assert expected in paths


def test_each_permission_code_is_declared_once_and_the_worker_runs_every_domains_jobs(settings: Settings) -> None:
    codes = [permission.code for permission in installed().permissions()]
    assert len(codes) == len(set(codes)) and "cases:decide" in codes and "network:read" in codes
    worker = create_celery(settings, installed())
    assert set(worker.conf.beat_schedule) == {"flag-overdue-cases", "relay-import-jobs", "relay-outbox-events",
                                              "deliver-webhooks", "purge-old-gps-pings", "create-due-inspection-tasks",
                                              "sync-push-backlog", "prune-tile-changes", "relay-evidence-verification",
                                              "clean-up-abandoned-uploads", "apply-evidence-retention"}
    assert set(worker.conf.include) == {"core.events.tasks", "gis.imports.tasks", "cases.tasks", "inspections.sync.tasks",
                                        "inspections.sync.push_tasks", "inspections.plan_jobs", "gis.layers.tiles.tasks",
                                        "media.tasks"}
    assert installed().reference_tables() >= {"alembic_version", "rule_sets", "working_calendars", "topology_state",
                                              "tile_state"}


SAMPLE_DOMAIN = {
    "__init__.py": '"""A domain written for this test: a package, nothing else."""\n',
    "permissions.py": """
        from core.permissions import Permission, Role

        PATROLS_READ = Permission("patrols:read", frozenset({Role.inspector}))
        """,
    "routes.py": """
        from typing import Annotated

        from fastapi import APIRouter, Depends, Request

        from api.dependencies import require
        from core.context import Actor
        from sample_patrols.permissions import PATROLS_READ

        router = APIRouter(prefix="/patrols", tags=["patrols"])


        @router.get("")
        def list_patrols(request: Request, actor: Annotated[Actor, Depends(require(PATROLS_READ))]) -> list[str]:
            seen = request.app.state.patrols_seen
            seen[actor.username] = seen.get(actor.username, 0) + 1
            return [f"patrol seen by {actor.username} ({seen[actor.username]})"]
        """,
    "tasks.py": """
        from celery import shared_task


        @shared_task(name="patrols.sweep")
        def sweep() -> int:
            return 0
        """,
    "cli.py": """
        def count(settings, args):
            print("patrols: 0")
            return 0


        def add_commands(sub):
            sub.add_parser("patrols", help="patrols").set_defaults(func=count)
        """,
    "domain.py": """
        from core.registry import Domain
        from sample_patrols.permissions import PATROLS_READ

        DOMAIN = Domain(
            name="patrols",
            routers=("sample_patrols.routes:router",),
            app_state=(("patrols_seen", "builtins:dict"),),
            tasks=("sample_patrols.tasks",),
            beat=lambda settings: {"sweep-patrols": {"task": "patrols.sweep", "schedule": 3600.0}},
            permissions=(PATROLS_READ,),
            commands=("sample_patrols.cli:add_commands",),
            reference_tables=("patrol_kinds",),
        )
        """,
}


@pytest.fixture
def sample_domain(tmp_path: Path) -> Iterator[str]:
    package = tmp_path / "sample_patrols"
    package.mkdir()
    for name, text in SAMPLE_DOMAIN.items():
        (package / name).write_text(textwrap.dedent(text), encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    yield "sample_patrols"
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m.startswith("sample_patrols")]:
        del sys.modules[module]


def test_a_new_domain_plugs_in_by_being_listed(sample_domain: str, settings: Settings,
                                                auth: Callable[[Role], dict[str, str]]) -> None:
    domains = load_domains((*INSTALLED, sample_domain))

    with TestClient(create_app(settings, domains)) as client:
        client.get("/api/v1/patrols", headers=auth(Role.inspector))
        inspector = client.get("/api/v1/patrols", headers=auth(Role.inspector))
        dispatcher = client.get("/api/v1/patrols", headers=auth(Role.dispatcher))
    worker = create_celery(settings, domains)
    args = build_parser(domains).parse_args(["patrols"])

    assert inspector.status_code == 200 and inspector.json() == ["patrol seen by test-inspector (2)"]
    assert dispatcher.status_code == 403 and "patrols:read" in dispatcher.json()["detail"]
    assert "sample_patrols.tasks" in worker.conf.include and "sweep-patrols" in worker.conf.beat_schedule
    assert isinstance(args, argparse.Namespace) and args.func(settings, args) == 0
    assert "patrol_kinds" in domains.reference_tables()


def test_a_domains_settings_are_its_own_read_from_its_variables_once(monkeypatch: pytest.MonkeyPatch,
                                                                      settings: Settings) -> None:
    from gis.screening.settings import ScreeningSettings

    monkeypatch.setenv("GW_SCREENING_MAX_BATCH", "7")
    fresh = settings.model_copy(deep=True)
    fresh._sections.clear()  # a process that has not asked yet

    first = fresh.section(ScreeningSettings)
    monkeypatch.setenv("GW_SCREENING_MAX_BATCH", "8")

    assert first.max_batch == 7 and fresh.section(ScreeningSettings) is first
    assert "screening" not in Settings.model_fields and "workflow" not in Settings.model_fields
