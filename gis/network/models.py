"""Network assets and the connectivity nodes that join them.

Topology is node-edge: `network_nodes` are electrical connection points (busbars, line ends,
customer connection points); lines, switches and transformers are the edges between two nodes;
customers hang off one node. Geometry is stored in EPSG:4326 and measured as geography (metres).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, ManagedRecord


class Construction(StrEnum):
    overhead = "overhead"
    cable = "cable"


class PoleKind(StrEnum):
    pole = "pole"
    tower = "tower"


class NetworkNode(Base):
    """An electrical connection point. Not versioned: nodes change only with the assets on them."""

    __tablename__ = "network_nodes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    node_type: Mapped[str] = mapped_column(String(40), default="node")
    nominal_kv: Mapped[float | None] = mapped_column(Float)
    subnet: Mapped[str | None] = mapped_column(String(100))
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"), index=True)
    # A feed point: where supply enters the modelled network (grid infeed). Traces stop there.
    is_source: Mapped[bool] = mapped_column(Boolean, default=False)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)


def geography_index(table: str) -> Index:
    """GiST index on `geom::geography`, so metre-radius searches (`ST_DWithin` on geography) and
    nearest-neighbour ordering use an index at any latitude."""
    return Index(f"ix_{table}_geog", text("(geom::geography)"), postgresql_using="gist")


class Substation(ManagedRecord, Base):
    __tablename__ = "substations"
    __table_args__ = (geography_index("substations"),)

    name: Mapped[str] = mapped_column(String(200), default="")
    subnet: Mapped[str | None] = mapped_column(String(100))
    nominal_kv: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class Transformer(ManagedRecord, Base):
    __tablename__ = "transformers"
    __table_args__ = (geography_index("transformers"),)

    name: Mapped[str] = mapped_column(String(200), default="")
    type_name: Mapped[str] = mapped_column(String(200), default="")
    rated_kva: Mapped[float] = mapped_column(Float)
    hv_kv: Mapped[float] = mapped_column(Float)
    lv_kv: Mapped[float] = mapped_column(Float)
    subnet: Mapped[str | None] = mapped_column(String(100), index=True)
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"), index=True)
    hv_node_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    lv_node_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class Line(ManagedRecord, Base):
    """An overhead line or underground cable section between two nodes."""

    __tablename__ = "lines"
    __table_args__ = (geography_index("lines"),
                      CheckConstraint("min_ground_clearance_m IS NULL OR min_ground_clearance_m > 0",
                                      name="min_ground_clearance_positive"))

    name: Mapped[str] = mapped_column(String(200), default="")
    construction: Mapped[Construction] = mapped_column(
        Enum(Construction, name="line_construction", native_enum=False, length=20)
    )
    nominal_kv: Mapped[float] = mapped_column(Float)
    conductor_type: Mapped[str] = mapped_column(String(200), default="")
    # Horizontal distance between the outermost conductors (overhead only). Protection zones are
    # measured from the outermost conductor, so this matters legally (DOMAIN.md section 3).
    conductor_spread_m: Mapped[float | None] = mapped_column(Float)
    # True when the spread came from the per-voltage default table rather than the asset record.
    conductor_spread_is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Horizontal conductor swing at maximum wind (overhead). In built-up areas the zone is this swing
    # plus the safety distance (实施细则 §5); None means the per-voltage default applies.
    wind_swing_m: Mapped[float | None] = mapped_column(Float)
    # Height of the lowest conductor above the ground at maximum sag (overhead), surveyed. Vertical
    # clearances (cranes, buildings, trees, vehicles) are measured down from it; None means the
    # per-voltage default (gis/data/conductor_height_defaults.json), flagged in every finding.
    min_ground_clearance_m: Mapped[float | None] = mapped_column(Float)
    feeder: Mapped[str | None] = mapped_column(String(100), index=True)
    subnet: Mapped[str | None] = mapped_column(String(100), index=True)
    node_a_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    node_b_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False)
    # Geodesic length on the WGS84 ellipsoid, maintained by the database from the geometry.
    length_m: Mapped[float] = mapped_column(Float, Computed("ST_Length(geom::geography)", persisted=True))


class Pole(ManagedRecord, Base):
    __tablename__ = "poles"
    __table_args__ = (geography_index("poles"),)

    kind: Mapped[PoleKind] = mapped_column(Enum(PoleKind, name="pole_kind", native_enum=False, length=20))
    nominal_kv: Mapped[float] = mapped_column(Float)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    subnet: Mapped[str | None] = mapped_column(String(100))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class Switch(ManagedRecord, Base):
    """A switch between two nodes. `normally_open` is the planned state; `is_open` the state now."""

    __tablename__ = "switches"
    __table_args__ = (geography_index("switches"),)

    name: Mapped[str] = mapped_column(String(200), default="")
    switch_type: Mapped[str] = mapped_column(String(40), default="")
    normally_open: Mapped[bool] = mapped_column(Boolean, default=False)
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    nominal_kv: Mapped[float | None] = mapped_column(Float)
    subnet: Mapped[str | None] = mapped_column(String(100))
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substations.id"), index=True)
    node_a_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    node_b_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class TopologyState(Base):
    """A single row whose counter moves whenever topology changes, so cached graphs know to update."""

    __tablename__ = "topology_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
    # How many recent revisions `topology_changes` keeps. A process whose graph is older than that
    # reloads it whole, which costs about as much as replaying that many changes. Data, not code, so
    # an operator can widen it (`UPDATE topology_state SET change_log_keep = ...`) without a release.
    change_log_keep: Mapped[int] = mapped_column(Integer, default=10_000, server_default="10000")


class TopologyChange(Base):
    """Which elements one topology revision touched (a switch operated, a line or transformer
    deleted), so a cached graph can patch those edges instead of reloading the whole network.

    One row per revision; a revision without a row (an import, a bulk repair) tells caches that the
    change is unknown and they must reload. Elements are named by their `network_edges` type and id.
    """

    __tablename__ = "topology_changes"

    revision: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    element_types: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    element_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
