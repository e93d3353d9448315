"""Input types bounded by what the database can hold and by what the contract promises.

A value the API accepts must be one the database can store or compare: an integer beyond PostgreSQL's
`bigint` is a database error (a 500) unless it is refused at the edge with a 422 that names the field.
Dates and times are ISO 8601 text only: pydantic's lax mode would read `0` or `0.5` as a Unix
timestamp, which no client means and no generated client sends.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BeforeValidator
from sqlalchemy.orm import InstrumentedAttribute

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

DbInt = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]
"""Any integer a PostgreSQL `bigint` column can hold (counts, filters)."""

DbId = Annotated[int, Ge(1), Le(INT64_MAX)]
"""A record id: positive, and within `bigint`."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?")


def _iso_date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be an ISO 8601 date, e.g. 2026-11-29")
    return value


def _iso_datetime_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.fullmatch(value):
        raise ValueError("must be an ISO 8601 date and time, e.g. 2026-11-29T08:30:00Z")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
"""A calendar day written `YYYY-MM-DD`; numbers and timestamps are refused."""

IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime_text)]
"""A moment written in ISO 8601 (`2026-11-29T08:30:00Z`); numbers are refused."""


def column_length(column: InstrumentedAttribute[Any]) -> int:
    """The declared length of a `String(n)` column, for schema fields whose value it stores."""
    length = getattr(column.property.columns[0].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no declared length")
    return length
