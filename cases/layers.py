"""Cases as a map layer: each case a point at its location, for GIS clients (OGC API Features) and
the map. Registered in the one catalogue (`gis.layers.catalogue`) and read through the generic list
SQL, so it adds no REST route: cases are written only through their workflow (`/api/v1/cases`).

The properties are what a GIS analyst needs to map the case load (its number, kind, state,
department, voltage and deadlines); the applicant's name, phone, ID number, address and the
description are personal data and are not published here at all (`cases.privacy` governs them in
the case API).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cases.models import Case
from cases.permissions import CASES_READ
from cases.workflow import CaseKind, State
from gis.layers.spec import POINT, ReadOnlyTable


class CaseLayerFilters(BaseModel):
    """Property filters of the cases layer (`?state=surveying&department=...`)."""

    model_config = ConfigDict(extra="forbid")

    kind: CaseKind | None = None
    state: State | None = None
    request_type: str | None = Field(default=None, max_length=40)
    department: str | None = Field(default=None, max_length=60)


CASES = ReadOnlyTable(
    name="cases", title="Cases (connection requests, construction permits, encroachments)", model=Case,
    geometry_types=POINT, geometry_column="location", read_permission=CASES_READ,
    output_fields=("number", "kind", "request_type", "state", "department", "voltage_kv", "verdict",
                   "stage_started_at", "deadline_at", "overdue_flagged_at", "escalation_level", "created_at"),
    filters=CaseLayerFilters)
