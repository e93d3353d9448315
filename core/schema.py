"""Imports every domain's models so `metadata` holds the whole schema (for Alembic and tests)."""

from __future__ import annotations

import core.audit.models  # noqa: F401
import core.outbox  # noqa: F401
import core.users.models  # noqa: F401
import gis.customers.models  # noqa: F401
import gis.imports.models  # noqa: F401
import gis.network.models  # noqa: F401
import gis.rules.models  # noqa: F401
import gis.screening.models  # noqa: F401
import gis.zones.models  # noqa: F401
import permits.models  # noqa: F401
from core.models import Base

metadata = Base.metadata
