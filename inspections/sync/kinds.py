"""The kinds of item a device may push, each with its handler."""

from __future__ import annotations

from inspections.sync import case_mutations
from inspections.sync.mutations import Handler

HANDLERS: dict[str, Handler] = {
    "encroachment_report": case_mutations.encroachment_report,
}
