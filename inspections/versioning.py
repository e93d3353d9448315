"""Per-field versions, so that offline edits merge instead of overwriting each other.

A record (a task, a finding) has `version`, bumped by every write, and `field_versions`: for each
field, the version that last changed it. A device that edited fields F of version b conflicts only
on the fields of F changed after b (and then only if the server's value differs from the device's);
its other fields merge. Every service write goes through `touch`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Versioned(Protocol):
    version: int
    field_versions: dict[str, int]


def touch(record: Versioned, fields: Iterable[str]) -> int:
    """Bump the record's version and mark `fields` as changed in it; returns the new version."""
    fields = list(fields)
    if not fields:
        return record.version
    record.version = (record.version or 0) + 1
    record.field_versions = {**(record.field_versions or {}), **{f: record.version for f in fields}}
    return record.version


def changed_since(record: Versioned, base_version: int, fields: Iterable[str]) -> list[str]:
    """The fields among `fields` the server changed after `base_version`."""
    versions = record.field_versions or {}
    return [f for f in fields if versions.get(f, 0) > base_version]


def values_differ(server: Any, device: Any) -> bool:
    return bool(server != device)


@dataclass(frozen=True)
class MergeOutcome:
    """What an offline edit did: the fields applied, the fields kept as conflicts (server value,
    device value), and the record's version after the edit."""

    applied: dict[str, Any]
    conflicts: dict[str, tuple[Any, Any]]
    version: int


def merge(record: Versioned, *, base_version: int, changes: Mapping[str, Any],
          current: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
    """Split a device's `changes` (made against `base_version`) into what applies and what conflicts.

    `current` holds the server's present value of each changed field. A field changed on the server
    after `base_version` conflicts, unless both sides arrived at the same value; every other field
    applies. The caller writes the applied fields (and `touch`es them) and keeps the conflicts.
    """
    stale = set(changed_since(record, base_version, changes))
    applied = {f: v for f, v in changes.items() if f not in stale}
    conflicts = {f: (current.get(f), v) for f, v in changes.items()
                 if f in stale and values_differ(current.get(f), v)}
    return applied, conflicts
