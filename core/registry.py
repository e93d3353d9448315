"""Domains plug in here: each declares what it brings in its own `domain.py`, and the composition
roots (the API's app factory, the Celery worker, the CLI, Alembic's environment) read the list of
installed domains (`gridwarden.domains`). Core itself imports no domain.

A domain names its heavy parts (models, routers, tasks, commands, hooks) as `module` or
`module:attribute` strings, so declaring a domain imports nothing but its permissions; each
composition root imports only what it uses (the worker never loads a router).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData

from core.events.schedule import beat as core_beat
from core.permissions import CORE_PERMISSIONS, Permission, Role
from core.settings import Settings

# Tables core itself owns. Reference data of core: the migrations' bookkeeping and PostGIS's CRS table.
CORE_MODELS = ("core.users.models", "core.audit.models", "core.outbox", "core.events.models")
# Core's own Celery tasks (event delivery), run by every worker beside the domains'.
CORE_TASKS = ("core.events.tasks",)
# Sent when a worker starts: events a stopped worker left unpublished or undelivered.
CORE_WORKER_READY = ("events.relay", "events.deliver")
CORE_REFERENCE_TABLES = ("alembic_version", "spatial_ref_sys")

BeatSchedule = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Domain:
    """What one domain brings to the application. Every field but `name` is optional."""

    name: str
    # Modules whose import adds the domain's tables to `core.models.Base.metadata` (for Alembic and tests).
    models: tuple[str, ...] = ()
    # `module:attribute` of each FastAPI router; mounted under /api/v1 by the app factory.
    routers: tuple[str, ...] = ()
    # Per-process state of the API: (name, `module:factory`); the app factory sets `app.state.<name>`
    # to `factory()` (a cache the domain's routes share, such as the network's connectivity graph).
    app_state: tuple[tuple[str, str], ...] = ()
    # Modules with the domain's Celery tasks (`@shared_task`); the worker imports them.
    tasks: tuple[str, ...] = ()
    # Periodic jobs: a function of the settings returning Celery beat entries (name -> entry).
    beat: Callable[[Settings], BeatSchedule] | None = None
    # Task names the worker sends once when it starts (work that a lost worker left behind).
    on_worker_ready: tuple[str, ...] = ()
    permissions: tuple[Permission, ...] = ()
    # `module:function` adding the domain's subcommands: function(subparsers) (see `core.cli`).
    commands: tuple[str, ...] = ()
    # `module:function` run after migrations, in one unit of work: function(db=...) -> message or None.
    after_migrate: tuple[str, ...] = ()
    # `module:function` loading the domain's demo data: function(settings=..., engine=..., actor=...) -> message.
    demo_data: tuple[str, ...] = ()
    # `module:attribute` of each published map layer, or of a tuple of them (`gis.layers.catalogue`).
    layers: tuple[str, ...] = ()
    # `module:function` masking the domain's personal data in an audit snapshot for a reader whose
    # role may not see it: function(snapshot, role) -> None, changing the snapshot (a copy) in place.
    audit_redactions: tuple[str, ...] = ()
    # Reactions to events, in the emitting transaction: (event_type, `module:function`), the function
    # taking (db=..., event=...) (see `core.outbox`). How a domain follows another's workflow
    # without that domain naming it.
    event_handlers: tuple[tuple[str, str], ...] = ()
    # Tables whose rows are reference data the migrations load (rule sets, calendars): a test reset
    # or a benchmark's truncate keeps them.
    reference_tables: tuple[str, ...] = ()
    # Who may see the domain's outbox events: (entity_type, permission) pairs, e.g. ("case", cases:read).
    # Events of an entity type no domain declares are shown to administrators only.
    event_visibility: tuple[tuple[str, Permission], ...] = ()
    # `module:attribute` of each kind of record photo evidence may be attached to (a
    # `media.links.LinkProvider`: a case, a field task, a finding, a meter reading).
    evidence_links: tuple[str, ...] = ()


def resolve(reference: str) -> Any:
    """The object a `module:attribute` reference names (a module for a plain `module`)."""
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


@dataclass(frozen=True)
class Domains:
    """The installed domains, in the order they were listed."""

    items: tuple[Domain, ...]

    def __iter__(self) -> Iterator[Domain]:
        return iter(self.items)

    def metadata(self) -> MetaData:
        """The whole schema: core's tables and every installed domain's."""
        for module in CORE_MODELS + tuple(m for domain in self.items for m in domain.models):
            importlib.import_module(module)
        from core.models import Base

        return Base.metadata

    def routers(self) -> list[Any]:
        return [resolve(reference) for domain in self.items for reference in domain.routers]

    def app_state(self) -> dict[str, Any]:
        """Each domain's per-process API state, freshly made; a name is claimed by one domain."""
        state: dict[str, Any] = {}
        for domain in self.items:
            for name, factory in domain.app_state:
                if name in state:
                    raise ValueError(f"app state {name!r} of domain {domain.name} is declared twice")
                state[name] = resolve(factory)()
        return state

    def layers(self) -> list[Any]:
        """Every installed domain's published map layers (what the layer catalogue lists)."""
        found: list[Any] = []
        for domain in self.items:
            for reference in domain.layers:
                value = resolve(reference)
                found.extend(value if isinstance(value, tuple) else (value,))
        return found

    def task_modules(self) -> list[str]:
        return [*CORE_TASKS, *(module for domain in self.items for module in domain.tasks)]

    def beat_schedule(self, settings: Settings) -> BeatSchedule:
        schedule: BeatSchedule = core_beat(settings)
        for domain in self.items:
            entries = domain.beat(settings) if domain.beat else {}
            if clash := schedule.keys() & entries.keys():
                raise ValueError(f"beat entries {sorted(clash)} of domain {domain.name} are declared twice")
            schedule.update(entries)
        return schedule

    def event_visibility(self) -> dict[str, Permission]:
        """The permission needed to see each entity type's events; an entity type is declared once."""
        found: dict[str, Permission] = {}
        for domain in self.items:
            for entity_type, permission in domain.event_visibility:
                if entity_type in found:
                    raise ValueError(f"events of {entity_type!r} are declared twice (domain {domain.name})")
                found[entity_type] = permission
        return found

    def worker_ready_tasks(self) -> list[str]:
        return [*CORE_WORKER_READY, *(task for domain in self.items for task in domain.on_worker_ready)]

    def permissions(self) -> tuple[Permission, ...]:
        """Core's permissions and every domain's; a code is declared once."""
        every = CORE_PERMISSIONS + tuple(p for domain in self.items for p in domain.permissions)
        codes = [p.code for p in every]
        if duplicates := sorted({code for code in codes if codes.count(code) > 1}):
            raise ValueError(f"permissions declared twice: {duplicates}")
        return every

    def command_installers(self) -> list[Callable[[Any], None]]:
        return [resolve(reference) for domain in self.items for reference in domain.commands]

    def after_migrate_hooks(self) -> list[Callable[..., str | None]]:
        return [resolve(reference) for domain in self.items for reference in domain.after_migrate]

    def demo_loaders(self) -> list[Callable[..., str]]:
        return [resolve(reference) for domain in self.items for reference in domain.demo_data]

    def audit_redactions(self) -> list[Callable[[dict[str, Any], Role], None]]:
        return [resolve(reference) for domain in self.items for reference in domain.audit_redactions]

    def event_handlers(self) -> dict[str, tuple[Callable[..., None], ...]]:
        """Every installed domain's event handlers by event type, in the order the domains are listed."""
        handlers: dict[str, tuple[Callable[..., None], ...]] = {}
        for domain in self.items:
            for event_type, reference in domain.event_handlers:
                handlers[event_type] = (*handlers.get(event_type, ()), resolve(reference))
        return handlers

    def evidence_links(self) -> dict[str, Any]:
        """The record kinds photo evidence may link to, by kind; a kind is declared once."""
        found: dict[str, Any] = {}
        for domain in self.items:
            for reference in domain.evidence_links:
                provider = resolve(reference)
                if provider.kind in found:
                    raise ValueError(f"evidence link kind {provider.kind!r} is declared twice (domain {domain.name})")
                found[provider.kind] = provider
        return found

    def reference_tables(self) -> frozenset[str]:
        return frozenset(CORE_REFERENCE_TABLES + tuple(t for domain in self.items for t in domain.reference_tables))


def load_domains(packages: Iterable[str]) -> Domains:
    """The `DOMAIN` each package's `domain.py` declares, checked for unique names."""
    items = tuple(importlib.import_module(f"{package}.domain").DOMAIN for package in packages)
    names = [domain.name for domain in items]
    if len(set(names)) != len(names):
        raise ValueError(f"domain names must be unique: {names}")
    return Domains(items)
