"""Per-field versions, so that offline edits merge instead of overwriting each other.

A record (a task, a finding) has `version`, bumped by every write, and `field_versions`: for each
field, the version that last changed it. A device that edited fields F of version b conflicts only
on the fields of F changed after b (and then only if the server's value differs from the device's);
its other fields merge. Every service write goes through `touch`.
"""

from __future__ import annotations

from collections.abc import Iterable
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
