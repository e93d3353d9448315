"""Qualifications gate field work (DOMAIN.md §1): a task that needs a certificate cannot go to
someone without it, or whose certificate expires before the task is due. The refusal (409) names
the certificate and why, so a dispatcher knows whom else to send or what to renew."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from core.errors import Conflict, InvalidInput
from core.permissions import Role, has_permission
from core.users.models import Qualification, User
from inspections.permissions import TASKS_WORK
from inspections.policy import local_timezone

FIELD = "required_qualifications"


def normalise(requirements: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The requirements as stored: `{"certificate_type": str, "voltage_kv": float}` each, or 422."""
    found = []
    for i, requirement in enumerate(requirements):
        certificate = requirement.get("certificate_type")
        voltage = requirement.get("voltage_kv")
        if not isinstance(certificate, str) or not certificate.strip() or len(certificate) > 100:
            raise InvalidInput("Each required qualification needs a certificate_type (1 to 100 characters).",
                               errors=[{"field": f"{FIELD}[{i}].certificate_type", "message": "required"}])
        if isinstance(voltage, bool) or not isinstance(voltage, int | float) or not 0 <= voltage <= 1000:
            raise InvalidInput("Each required qualification needs voltage_kv, a number from 0 to 1000.",
                               errors=[{"field": f"{FIELD}[{i}].voltage_kv", "message": "0 to 1000 kV"}])
        found.append({"certificate_type": certificate.strip(), "voltage_kv": float(voltage)})
    return found


def check_assignee(*, user: User, requirements: list[dict[str, Any]], due_until: datetime) -> None:
    """Refuse `user` for a task due by `due_until`: not an active field worker (422), or lacking a
    certificate the task needs, or holding one that expires before the task's last local day (409)."""
    if not user.is_active or not has_permission(Role(user.role), TASKS_WORK):
        raise InvalidInput(f"{user.username} cannot be given field tasks (inactive, or role {user.role} does no "
                           "field work).", errors=[{"field": "assignee_id", "message": "not a field worker"}])
    last_day = due_until.astimezone(local_timezone()).date()
    for requirement in requirements:
        certificate, voltage = requirement["certificate_type"], float(requirement["voltage_kv"])
        covering = [q for q in user.qualifications
                    if q.certificate_type == certificate and float(q.max_voltage_kv) >= voltage]
        if not covering:
            raise Conflict(f"{user.username} holds no '{certificate}' certificate for {voltage:g} kV, which this "
                           "task needs.", qualification=_problem(requirement, "missing"))
        longest: Qualification = max(covering, key=lambda q: q.valid_until)
        if not longest.is_valid_on(last_day):
            raise Conflict(f"{user.username}'s '{certificate}' certificate expires on {longest.valid_until} "
                           f"before the task is due on {last_day}.",
                           qualification=_problem(requirement, "expires", valid_until=longest.valid_until.isoformat(),
                                                  due_on=last_day.isoformat()))


def _problem(requirement: dict[str, Any], reason: str, **details: str) -> dict[str, Any]:
    return {**requirement, "reason": reason, **details}
