"""What evidence links to: one model for every kind of record (a case, a field task, a finding, a
meter reading, and whatever later domains add), without media knowing those domains.

Each domain that has records photos belong to declares a `LinkProvider` per kind in its `domain.py`
(`Domain.evidence_links`). A provider finds the record by the reference a device knows (the case
id, or the uuid the device gave the task, finding or reading: it exists before the record reaches
the server), says who may attach photos to it and who may see them, and gives what the checks need:
the record's geometry (the asset's, so a line is measured to the line itself), its time window and
its task type.

A record that has not arrived yet: a provider with `deferred=True` accepts a photo for a reference
it cannot find; the evidence waits with `record_id` NULL, and the domain calls `record_arrived`
from its own event handler when the record is created (in that transaction), which links the
waiting evidence, checks the uploader's right to the record and runs the location and time checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from sqlalchemy.orm import Session

from core.context import Actor


@dataclass(frozen=True)
class LinkedRecord:
    """A record evidence is attached to, as the checks and the audit log need it."""

    kind: str
    ref: str
    record_id: int
    # WKT (EPSG:4326) of what the photo must be near: a point, a line (measured to the line), a polygon.
    geometry_wkt: str
    # The record's entity type and id as the audit log and outbox name it ("field_task", 12).
    entity_type: str
    # The time the work was due, when the record has one (a task's window): photos outside it are suspicious.
    window: tuple[datetime, datetime] | None = None
    # Chooses the location threshold (`media/data/evidence_rules.json`); None: the default.
    task_type: str | None = None


class LinkProvider(Protocol):
    kind: str
    # The record may arrive after its photos (created on a device); a missing reference then waits.
    deferred: bool

    def normalise_ref(self, ref: str) -> str:
        """The canonical form of a reference (a lower-case uuid, a decimal id); ValueError if malformed."""
        ...

    def find(self, *, db: Session, ref: str) -> LinkedRecord | None:
        """The record, whoever asks (None: not there, or not yet)."""
        ...

    def may_attach(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        """May `actor` add photos to this record?"""
        ...

    def may_view(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        """May `actor` see this record's photos (the same rule as seeing the record)?"""
        ...


@cache
def providers() -> Mapping[str, LinkProvider]:
    """Every installed domain's providers by kind (read once; the installed domains do not change)."""
    from gridwarden.domains import installed

    return installed().evidence_links()
