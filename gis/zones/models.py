"""Zone tables. Derived zones are a function of lines, built-up areas and the default rule set,
rebuilt in the same transaction as any change to those; manual zones and built-up areas are
managed records like the network layers."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geography, Geometry
from sqlalchemy import BigInteger, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, ManagedRecord
from gis.network.models import geography_index


class BuiltUpArea(ManagedRecord, Base):
    """A factory, town or village: where an overhead line takes the densely-built zone rule."""

    __tablename__ = "built_up_areas"

    name: Mapped[str] = mapped_column(String(200), default="")
    area_type: Mapped[str] = mapped_column(String(40), default="town")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)


class ManualZone(ManagedRecord, Base):
    """A zone drawn or imported by hand: substations, special corridors, protected sites."""

    __tablename__ = "manual_zones"
    __table_args__ = (geography_index("manual_zones"),)

    name: Mapped[str] = mapped_column(String(200), default="")
    zone_type: Mapped[str] = mapped_column(String(40), default="substation")
    authority: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(1000))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)


class LineZone(Base):
    """One part of a line's protection zone: the whole line, or the stretch inside / outside
    built-up areas. `centre` is that stretch of the centre line (geography, for exact distances);
    `geom` is the zone polygon for the map and for fast intersection.

    half_width_m = conductor_offset_m (half the spread) + wind_swing_m (built-up rule only) + width_m.
    """

    __tablename__ = "line_zones"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_sets.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(80))
    setting: Mapped[str] = mapped_column(String(20))  # general | built_up | cable
    nominal_kv: Mapped[float] = mapped_column(Float)
    conductor_offset_m: Mapped[float] = mapped_column(Float)
    wind_swing_m: Mapped[float] = mapped_column(Float)
    width_m: Mapped[float] = mapped_column(Float)
    half_width_m: Mapped[float] = mapped_column(Float)
    centre = mapped_column(Geography("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
