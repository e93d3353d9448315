"""The case policy: which department owns a case and how many working days each stage may take,
read from `cases/data/policy.json` (DOMAIN.md §4 defaults). ("Rule sets", in `gis/rule_sets`, are the
legal clearance distances; this is the utility's own routing and time limits.)

Which department owns a request and how many working days each stage may take are decisions the
utility makes; this module only reads them and applies them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cases.workflow import CaseKind, State

POLICY_PATH = Path(__file__).resolve().parent / "data" / "policy.json"


@dataclass(frozen=True)
class CasePolicy:
    calendar_code: str
    lv_max_kv: float
    lv_small_max_kw: float
    hv_key_account_max_kva: float
    departments: dict[str, dict[str, Any]]
    organisation: dict[str, str]
    encroachment: dict[str, Any]
    limits: dict[str, int]
    escalation: dict[str, dict[str, str]]

    def department_for(self, *, kind: CaseKind, voltage_kv: float, load_kw: float | None,
                       capacity_kva: float | None, power_factor: float) -> str:
        """Seed 001: LV up to 13.2 kW -> customer-service centre; LV above -> the same with a
        transformer capacity check; 10 kV below 500 kVA -> key-account office; 500 kVA and above ->
        marketing department. Permits and encroachments belong to the safety department."""
        if kind != CaseKind.connection:
            return "safety_department"
        if voltage_kv <= self.lv_max_kv:
            small = (load_kw or 0.0) <= self.lv_small_max_kw
            return "customer_service_centre" if small else "customer_service_centre_capacity_check"
        kva = capacity_kva if capacity_kva is not None else (load_kw or 0.0) / power_factor
        return "key_account_office" if kva < self.hv_key_account_max_kva else "marketing_department"

    def stage_limit_days(self, *, state: State, voltage_kv: float, department: str,
                         rectification_days: int | None = None) -> int | None:
        """Working days allowed for the stage a case has just entered; None when it waits on nobody
        at the utility (a final state)."""
        if state in (State.screened, State.survey_assigned):
            extra = self.limits["capacity_check_days"] if self.departments[department].get("capacity_check") else 0
            return self.limits["site_survey_days"] + extra
        if state in (State.surveyed, State.reinspected):
            return self.limits["decision_lv_days" if voltage_kv <= self.lv_max_kv else "decision_hv_days"]
        if state == State.hazard_notice_issued:
            return rectification_days or self.limits["rectification_days"]
        if state in (State.rectification_reported, State.reinspection_assigned):
            return self.limits["reinspection_days"]
        return None


def _parse(document: dict[str, Any]) -> CasePolicy:
    routing = document["routing"]
    return CasePolicy(
        calendar_code=document["calendar"],
        lv_max_kv=float(routing["lv_max_kv"]), lv_small_max_kw=float(routing["lv_small_max_kw"]),
        hv_key_account_max_kva=float(routing["hv_key_account_max_kva"]), departments=routing["departments"],
        organisation=document["organisation"], encroachment=document["encroachment"],
        limits={name: int(entry["value"]) for name, entry in document["time_limits"].items() if name != "source"},
        escalation=document["escalation"])


@lru_cache(maxsize=1)
def case_policy() -> CasePolicy:
    return _parse(json.loads(POLICY_PATH.read_text(encoding="utf-8")))
