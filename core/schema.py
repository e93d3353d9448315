"""Imports every domain's models so `metadata` holds the whole schema (for Alembic and tests)."""

from __future__ import annotations

import cases.models  # noqa: F401
import core.audit.models
import core.outbox
import core.users.models  # noqa: F401
import gis.customers.models
import gis.imports.models
import gis.network.models
import gis.rule_sets.models
import gis.screening.models
import gis.zones.models  # noqa: F401
from core.models import Base

metadata = Base.metadata
