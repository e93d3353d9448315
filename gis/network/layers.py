"""The catalogue of map layers: for each, its table, geometry types, schemas and filters.

One explicit `LayerSpec` object per layer is passed to the generic service and router code (no
look-ups by model-name strings). Customers are a layer too; their extra privacy rules live in
`gis.customers.privacy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, create_model
from sqlalchemy.orm import Session

from core.models import ManagedRecord
from core.permissions import Permission
from gis.customers.models import Customer
from gis.customers.permissions import CUSTOMERS_READ, CUSTOMERS_WRITE
from gis.network import schemas
from gis.network.models import Line, Pole, Substation, Switch, Transformer
from gis.network.permissions import NETWORK_READ, NETWORK_WRITE
from gis.zones import service as zone_service

POINT = frozenset({"Point"})
POLYGON = frozenset({"Polygon", "MultiPolygon"})

# Called in the writer's transaction after a create, update or delete, with the row id and its
# geometry before the change (None for a create): keeps derived data such as zones in step.
AfterWrite = Callable[[Session, int, dict[str, Any] | None], None]


@dataclass(frozen=True)
class LayerSpec:
    name: str  # URL segment and outbox/audit entity type
    entity_type: str
    model: type[ManagedRecord]  # a mapped class (ManagedRecord, Base): id, external_id, version, deleted_at
    props: type[schemas.LayerProps]
    query: type[schemas.ListQuery]
    geometry_types: frozenset[str]
    read_permission: Permission
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
        return tuple(self.props.model_fields) + self.read_only


NETWORK_LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("substations", "substation", Substation, schemas.SubstationProps, schemas.SubstationQuery, POINT,
              NETWORK_READ, NETWORK_WRITE),
    LayerSpec("transformers", "transformer", Transformer, schemas.TransformerProps, schemas.TransformerQuery,
              POINT, NETWORK_READ, NETWORK_WRITE,
              read_only=("substation_id", "hv_node_id", "lv_node_id")),
    LayerSpec("lines", "line", Line, schemas.LineProps, schemas.LineQuery, frozenset({"LineString"}),
              NETWORK_READ, NETWORK_WRITE,
              read_only=("length_m", "conductor_spread_is_default", "node_a_id", "node_b_id"),
              after_write=zone_service.refresh_after_line_write),
    LayerSpec("poles", "pole", Pole, schemas.PoleProps, schemas.PoleQuery, POINT,
              NETWORK_READ, NETWORK_WRITE, read_only=("node_id",)),
    LayerSpec("switches", "switch", Switch, schemas.SwitchProps, schemas.SwitchQuery, POINT,
              NETWORK_READ, NETWORK_WRITE,
              read_only=("substation_id", "node_a_id", "node_b_id"),
              topology_fields=frozenset({"is_open"})),
)

CUSTOMERS = LayerSpec("customers", "customer", Customer, schemas.CustomerProps, schemas.CustomerQuery, POINT,
                      CUSTOMERS_READ, CUSTOMERS_WRITE, read_only=("node_id",))
