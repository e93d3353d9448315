"""The tile change log: where, on the map, each table's data changed.

Triggers on every table a tile layer draws (migration `b7e2c4d1a9f0`) append the bounding box of
each changed row, before and after the change, to `tile_changes` in the writer's own transaction.
Every writer (the API, imports, zone rebuilds, the overdue job, a psql session) is covered without
calling anything. A tile's version is then what the log holds over that tile: the count and
newest id of the changes whose box meets it, so a change elsewhere leaves it (and its ETag and
cache entry) alone. `tile_state.epoch` changes when the log is emptied (TRUNCATE), so counts that
start again from zero can never meet an old cache entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, DateTime, Integer, String, Uuid, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class TileChange(Base):
    """One changed row's box (or one statement's extent, for bulk writes), in EPSG:4326."""

    __tablename__ = "tile_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(63))  # the table written
    bbox = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TileState(Base):
    """One row: the log's epoch, and how many rows one statement may change before the log keeps
    their common extent instead of one box each (data, so an operator can change it in SQL)."""

    __tablename__ = "tile_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[uuid.UUID] = mapped_column(Uuid, server_default=text("gen_random_uuid()"))
    # An import of 100,000 lines would otherwise add 100,000 boxes that every later tile request
    # scans; beyond this many rows one extent is exact enough (a bulk write touches most tiles anyway).
    bulk_rows: Mapped[int] = mapped_column(Integer, server_default="500")
