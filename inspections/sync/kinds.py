"""The kinds of item a device may push, each with its handler."""

from __future__ import annotations

from inspections.sync import case_mutations, position_mutations, reading_mutations, task_mutations
from inspections.sync.mutations import Handler

HANDLERS: dict[str, Handler] = {
    "task_create": task_mutations.task_create,
    "task_action": task_mutations.task_action,
    "task_update": task_mutations.task_update,
    "answers": task_mutations.answers,
    "finding": task_mutations.finding,
    "reading": reading_mutations.reading,
    "encroachment_report": case_mutations.encroachment_report,
    "gps_ping": position_mutations.gps_ping,
}
