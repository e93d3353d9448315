"""Need to know for the applicant's personal data on a case (DOMAIN.md §6: shown to those whose
role needs it, phone and ID numbers masked by default, who viewed whose record is logged).

One function, `disclosed_fields`, decides per case and per field what a caller sees in full; every
answer that carries a case (lists, single reads, action and hand-over responses) goes through it,
and the audit record of the disclosure is written from its result.

A field is shown in full only if both hold:
- the caller has a part in *this* case: its owner (the one accountable person), its assignee (the
  person sent on the pending or last site visit), or a deciding officer (who took a decision on it:
  a hazard notice, an approval, a refusal, a resolution). Holding the same role as one of them is
  not enough: another approver or inspector sees the case masked;
- the caller's role needs that field: the phone to reach the applicant (`cases:read_contact`),
  the ID number to identify them in a decision (`cases:read_id_number`, approval officers only).

Administrators are not an exception: their role grants every permission, but they see personal
data in full only on cases where they hold one of the parts above (an admin who decides or
surveys a case). Running the system does not need anyone's ID number; an administrator who must
see it takes the case over (`hand-over`), which is itself on the record.

Deciding officers keep their view after the decision (they signed it and answer for it); previous
owners and assignees lose theirs when the case is handed over or re-assigned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from cases.models import Case, CaseEvent
from cases.permissions import CASES_READ_CONTACT, CASES_READ_ID_NUMBER
from cases.workflow import TRANSITIONS
from core.context import Actor
from core.permissions import Permission, has_permission
from gis.customers.privacy import mask_phone


class CasePart(StrEnum):
    """The parts a person can have in a case that give them a need to know its applicant."""

    owner = "owner"
    assignee = "assignee"
    decider = "decider"


def mask_id_number(value: str | None) -> str | None:
    """ID numbers show only their last four characters (DOMAIN.md §6: masked by default)."""
    if not value:
        return value
    return "*" * max(0, len(value) - 4) + value[-4:]


# Each personal field of a case: the permission a role needs to see it in full, and its mask.
PERSONAL_FIELDS: dict[str, tuple[Permission, Callable[[str | None], str | None]]] = {
    "applicant_phone": (CASES_READ_CONTACT, mask_phone),
    "applicant_id_number": (CASES_READ_ID_NUMBER, mask_id_number),
}
DECISIONS = frozenset(t.action.value for t in TRANSITIONS if t.decision)


def parts_in_case(*, user_id: int | None, case: Case, events: Iterable[CaseEvent]) -> frozenset[CasePart]:
    """The parts `user_id` has in `case` now; `events` is the case's history (who decided)."""
    if user_id is None:
        return frozenset()
    parts = set()
    if case.owner_id == user_id:
        parts.add(CasePart.owner)
    if case.assignee_id == user_id:
        parts.add(CasePart.assignee)
    if any(e.actor_id == user_id and e.action in DECISIONS for e in events):
        parts.add(CasePart.decider)
    return frozenset(parts)


def disclosed_fields(*, actor: Actor, case: Case, events: Iterable[CaseEvent]) -> frozenset[str]:
    """The personal fields of `case` that `actor` sees in full (only fields that hold a value)."""
    if not parts_in_case(user_id=actor.user_id, case=case, events=events):
        return frozenset()
    return frozenset(field for field, (permission, _) in PERSONAL_FIELDS.items()
                     if getattr(case, field) and has_permission(actor.role, permission))


def personal_data(case: Case, disclosed: frozenset[str]) -> dict[str, str | None]:
    """The personal fields of `case` as the caller may see them: in full if disclosed, else masked."""
    return {field: getattr(case, field) if field in disclosed else mask(getattr(case, field))
            for field, (_, mask) in PERSONAL_FIELDS.items()}
