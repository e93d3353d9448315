"""What a published map layer is: the facts map tiles, OGC API Features, imports and the REST
routes read from the catalogue instead of knowing each layer.

Two kinds: a `LayerSpec` is a managed table (CRUD, audit, If-Match, imports) read and written by
the generic service; a `ReadOnlyLayer` is derived data with its own read function. Both are plain
objects passed around explicitly (no look-ups by model-name strings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, create_model
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.context import Actor
from core.models import Base, ManagedRecord
from core.permissions import Permission
from gis.geo.crs import STORAGE_OUTPUT, OutputCrs
from gis.layers import schemas

POINT = frozenset({"Point"})
LINESTRING = frozenset({"LineString"})
POLYGON = frozenset({"Polygon", "MultiPolygon"})

# Every stored layer keeps its geometry (EPSG:4326) in a column of this name.
GEOMETRY_COLUMN = "geom"
# Properties the generic service adds to every feature of a managed layer.
RECORD_PROPERTIES = ("version", "updated_at")

# Called in the writer's transaction after a create, update or delete, with the row id and its
# geometry before the change (None for a create): keeps derived data such as zones in step.
AfterWrite = Callable[[Session, int, dict[str, Any] | None], None]


@dataclass(frozen=True)
class BBoxFilter:
    """A checked box in EPSG:4326 (longitude, latitude)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class Disclosure:
    """Personal data a reader is shown in full in a list, to be logged: the page also returns the
    `key` of every row whose `field` holds a value (e.g. the account numbers whose phone numbers
    were shown). Found by the list query itself, so logging costs no second look-up of the page."""

    field: str
    key: str


@dataclass(frozen=True)
class Privacy:
    """Personal data in a layer (DOMAIN.md section 6), for every path that shows its features.

    Lists the database writes take `masks_for` (field -> SQL function hiding it from this reader)
    and `disclosure_for` (a field shown in full, whose rows `log_disclosure` records by key);
    features shaped in Python (single features) go through `apply`, the same rule in Python."""

    apply: Callable[[Session, Actor, list[dict[str, Any]]], None]
    masks_for: Callable[[Actor], dict[str, str]]
    disclosure_for: Callable[[Actor], Disclosure | None]
    log_disclosure: Callable[[Session, Actor, list[str]], None]


@dataclass(frozen=True, kw_only=True)
class Layer:
    """What every published layer declares: its name (the URL segment), a title for people, its
    table and geometry, who may read it and the privacy rule of its properties, if any."""

    name: str
    title: str
    model: type[Any]  # a mapped class; each kind of layer says which
    geometry_types: frozenset[str]
    read_permission: Permission
    privacy: Privacy | None = None
    geometry_column: str = GEOMETRY_COLUMN

    @property
    def geometry(self) -> InstrumentedAttribute[Any]:
        """The geometry column, for SQL built from the catalogue (lists, tiles)."""
        column: InstrumentedAttribute[Any] = getattr(self.model, self.geometry_column)
        return column


@dataclass(frozen=True, kw_only=True)
class LayerSpec(Layer):
    """A managed layer: clients and imports write it through the generic service."""

    model: type[ManagedRecord]  # a mapped ManagedRecord: id, external_id, version, deleted_at
    entity_type: str  # outbox and audit entity type
    props: type[schemas.LayerProps]
    query: type[schemas.ListQuery]
    write_permission: Permission
    # Columns derived by the database or import, shown but never written by clients.
    read_only: tuple[str, ...] = ()
    # Writing these fields changes the connectivity graph, so cached traces must reload.
    topology_fields: frozenset[str] = field(default_factory=frozenset)
    after_write: AfterWrite | None = None
    # Polygon layers are stored as MULTIPOLYGON so one column type takes both kinds of input.
    store_as_multi: bool = False
    patch: type[BaseModel] = field(init=False)
    feature_in: type[schemas.FeatureIn] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "patch", schemas.partial(self.props))
        feature = create_model(
            f"{self.props.__name__.removesuffix('Props')}FeatureIn",
            __base__=schemas.FeatureIn,
            properties=(self.props, ...),
        )
        object.__setattr__(self, "feature_in", feature)

    @property
    def output_fields(self) -> tuple[str, ...]:
        """The row's columns a feature shows (what clients write, then what they only read)."""
        return tuple(self.props.model_fields) + self.read_only

    @property
    def properties(self) -> tuple[str, ...]:
        """Every property a feature of this layer is published with."""
        return self.output_fields + RECORD_PROPERTIES


# A read-only layer's page: per feature, its cursor key and its GeoJSON Feature text, in cursor order.
KeyedFeatures = list[tuple[tuple[int, ...], str]]


@dataclass(frozen=True)
class PageQuery:
    """A page of any layer as a generic client (OGC API Features) asks for it: property filters of
    the layer's `filters` model, a box, the cursor key of the last feature seen, the output CRS."""

    filters: dict[str, Any]
    bbox: BBoxFilter | None
    after: tuple[int, ...] | None
    limit: int
    on_date: date
    output: OutputCrs = STORAGE_OUTPUT


@dataclass(frozen=True, kw_only=True)
class ReadOnlyLayer(Layer):
    """Derived data: computed by the system, never written by clients or imports. Its `read`
    function (called with `db=` and `query=`, the layer's own query) writes the page's features;
    `page` (called with `db=` and `query=`, a `PageQuery`) does the same for generic clients, and
    `feature_key` turns a feature's id back into its cursor key (None: no such feature can exist)."""

    model: type[Base]
    write_permission: ClassVar[None] = None
    properties: tuple[str, ...]
    read: Callable[..., KeyedFeatures]
    page: Callable[..., KeyedFeatures]
    feature_key: Callable[[str], tuple[int, ...] | None]
    # The property filters `page` takes (a model of optional fields), if any.
    filters: type[BaseModel] | None = None


@dataclass(frozen=True, kw_only=True)
class ReadOnlyTable(Layer):
    """A table another domain owns and writes through its own workflow (cases), published read-only
    through the generic list SQL (`gis.layers.service`): some of its columns, its `version` and
    `updated_at`, filtered by the fields of `filters`. Never written through the layer service or imports."""

    model: type[Base]
    write_permission: ClassVar[None] = None
    output_fields: tuple[str, ...]
    filters: type[BaseModel]

    @property
    def properties(self) -> tuple[str, ...]:
        return self.output_fields + RECORD_PROPERTIES


# What the generic list SQL reads: a managed layer or a read-only table.
TableLayer = LayerSpec | ReadOnlyTable
AnyLayer = LayerSpec | ReadOnlyLayer | ReadOnlyTable
