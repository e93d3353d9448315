"""Per-process resources (engine, session factory, storage) for code running inside Celery tasks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.database import create_db_engine, create_session_factory
from core.registry import Domains
from core.settings import Settings
from core.storage import ObjectStorage


@dataclass
class WorkerResources:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    storage: ObjectStorage


_resources: WorkerResources | None = None
_settings: Settings | None = None
_domains: Domains | None = None


def configure(settings: Settings, domains: Domains | None = None) -> None:
    """The worker's settings, and the installed domains whose event handlers its sessions run."""
    global _settings, _domains
    _settings, _domains = settings, domains


def resources() -> WorkerResources:
    """Created on first use inside the worker process (after fork), never at import."""
    global _resources
    if _resources is None:
        settings = _settings or Settings()
        engine = create_db_engine(settings.database)
        _resources = WorkerResources(settings=settings, engine=engine,
                                     session_factory=create_session_factory(
                                         engine, _domains.event_handlers() if _domains else None),
                                     storage=ObjectStorage(settings.s3))
    return _resources
